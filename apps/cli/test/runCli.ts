import { run } from '../src/program.ts';
import { API_TOKEN } from '../../../test/app.ts';

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** Runs one `opsloop …` command line in-process against `url`, capturing its output. */
export async function runCli(url: string, argv: string[], env: Record<string, string | undefined> = {}, signal = new AbortController().signal): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await run(argv, {
    io: { out: (s) => void (out += s), err: (s) => void (err += s) },
    env: { OPSLOOP_URL: url, OPS_API_TOKEN: API_TOKEN, ...env },
    signal,
  });
  return { code, out, err };
}

/** The same, parsing --json output. */
export async function runCliJson<T = Record<string, unknown>>(url: string, argv: string[]): Promise<T> {
  const r = await runCli(url, ['--json', ...argv]);
  if (r.code !== 0) throw new Error(`opsloop ${argv.join(' ')} exited ${r.code}: ${r.err}`);
  return JSON.parse(r.out) as T;
}
