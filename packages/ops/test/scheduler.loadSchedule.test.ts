import { describe, expect, it } from 'vitest';
import { loadSchedule, loadScheduleFile, ScheduleError } from '../src/scheduler/loadSchedule.ts';

const internalJobs = ['heartbeat', 'ops-daily-summary'];

/** Lines are numbered from 1; the comment on each line of a case says which line it is. */
const lines = (...l: string[]) => l.join('\n') + '\n';

function errorOf(text: string): ScheduleError {
  try {
    loadSchedule(text, { internalJobs, fileName: 'schedule.yaml' });
  } catch (error) {
    expect(error).toBeInstanceOf(ScheduleError);
    return error as ScheduleError;
  }
  throw new Error('expected loadSchedule to throw');
}

describe('loadSchedule', () => {
  it('defaults timezone to UTC and enabled to true', () => {
    const [job] = loadSchedule(lines('jobs:', '  - name: a', '    cron: "* * * * *"', '    run: { internal: heartbeat }'), { internalJobs });
    expect(job).toMatchObject({ name: 'a', timezone: 'UTC', enabled: true, line: 2 });
  });

  it('accepts an empty job list', () => {
    expect(loadSchedule('jobs: []\n', { internalJobs })).toEqual([]);
  });

  const ok = ['jobs:', '  - name: fine', '    cron: "0 * * * *"', '    run: { internal: heartbeat }']; // lines 1-4

  it('names the file, line and job of a bad cron', () => {
    const e = errorOf(lines(...ok, '  - name: foo', '    cron: "61 * * * *"', '    run: { internal: heartbeat }'));
    expect(e.message).toBe('schedule.yaml:6: job "foo": invalid cron "61 * * * *": Invalid value for minute: 61');
    expect(e.issues).toEqual([{ line: 6, job: 'foo', message: 'invalid cron "61 * * * *": Invalid value for minute: 61' }]);
  });

  it('refuses a seconds field; accepts the L/W/# modifiers, which fire and preview alike', () => {
    expect(errorOf(lines(...ok, '  - name: secs', '    cron: "*/10 * * * * *"', '    run: { internal: heartbeat }')).message).toMatch(
      /^schedule\.yaml:6: job "secs": invalid cron "\*\/10 \* \* \* \* \*": five fields are required .*a seconds field is not supported/,
    );
    const [, last] = loadSchedule(lines(...ok, '  - name: last', '    cron: "0 0 L * *"', '    run: { internal: heartbeat }'), { internalJobs });
    expect(last).toMatchObject({ name: 'last', cron: '0 0 L * *' });
  });

  it('reads catch_up (latest | none) and leaves it unset when absent, for the scheduler to default', () => {
    const jobs = loadSchedule(
      lines(...ok, '  - name: daily', '    cron: "0 6 * * *"', '    catch_up: latest', '    run: { internal: heartbeat }', '  - name: often', '    cron: "*/10 * * * *"', '    catch_up: none', '    run: { internal: heartbeat }'),
      { internalJobs },
    );
    expect(jobs.map((j) => [j.name, j.catchUp])).toEqual([
      ['fine', undefined],
      ['daily', 'latest'],
      ['often', 'none'],
    ]);
    expect(errorOf(lines(...ok, '  - name: bad', '    cron: "0 6 * * *"', '    catch_up: all', '    run: { internal: heartbeat }')).message).toMatch(
      /^schedule\.yaml:7: job "bad": .*catch_up/,
    );
  });

  it('names the line of an unknown internal job', () => {
    const e = errorOf(lines(...ok, '  - name: bar', '    cron: "0 * * * *"', '    run:', '      internal: nope'));
    expect(e.message).toBe('schedule.yaml:8: job "bar": unknown internal job "nope" (known: heartbeat, ops-daily-summary)');
  });

  it('names the line of a duplicate name', () => {
    const e = errorOf(lines(...ok, '  - name: fine', '    cron: "5 * * * *"', '    run: { internal: heartbeat }'));
    expect(e.message).toBe('schedule.yaml:5: job "fine": duplicate job name "fine"');
  });

  it('names the line of an unknown timezone', () => {
    const e = errorOf(lines(...ok, '  - name: tz', '    cron: "0 * * * *"', '    timezone: Mars/Olympus', '    run: { internal: heartbeat }'));
    expect(e.message).toBe('schedule.yaml:7: job "tz": unknown timezone "Mars/Olympus"');
  });

  it('names the line of a YAML syntax error', () => {
    const nested = errorOf(lines(...ok, '  - name: broken', '    cron: a: b', '    run: { internal: heartbeat }'));
    expect(nested.message).toBe('schedule.yaml:6: YAML syntax error: Nested mappings are not allowed in compact mappings');
    const duplicateKey = errorOf(lines(...ok, '  - name: twice', '    cron: "0 * * * *"', '    cron: "1 * * * *"', '    run: { internal: heartbeat }'));
    expect(duplicateKey.message).toBe('schedule.yaml:7: YAML syntax error: Map keys must be unique');
    const tab = errorOf(lines(...ok, '  - name: tab', '\tcron: "0 * * * *"'));
    expect(tab.message).toMatch(/^schedule\.yaml:6: YAML syntax error: Tabs are not allowed/);
  });

  it('refuses a run with both or neither of internal and proposal, and reports template shape errors by line', () => {
    const both = errorOf(
      lines(...ok, '  - name: both', '    cron: "0 * * * *"', '    run:', '      internal: heartbeat', '      proposal: { title: t, skill: ops_internal, steps: [{ kind: ops.noop }] }'),
    );
    expect(both.message).toBe('schedule.yaml:7: job "both": run must be exactly one of { internal: <name> } or { proposal: { title, skill, steps } }');
    const shape = errorOf(
      lines(...ok, '  - name: shape', '    cron: "0 * * * *"', '    run:', '      proposal:', '        title: t', '        skill: Not-A-Skill', '        steps: []'),
    );
    expect(shape.issues.map((i) => i.line)).toEqual([10, 11]);
    expect(shape.message).toContain('schedule.yaml:10: job "shape": ');
    expect(shape.message).toContain('(at run.proposal.skill)');
  });

  it('reports an unknown key at its own line', () => {
    const e = errorOf(lines(...ok, '  - name: typo', '    cron: "0 * * * *"', '    enabeld: false', '    run: { internal: heartbeat }'));
    expect(e.message).toMatch(/^schedule\.yaml:7: job "typo": .*enabeld/);
  });

  it('names the file it was given', async () => {
    await expect(loadScheduleFile('/nonexistent/schedule.yaml', { internalJobs })).rejects.toThrow(/ENOENT/);
    expect(() => loadSchedule('jobs: [', { internalJobs, fileName: 'ops/schedule.yaml' })).toThrow(/^ops\/schedule\.yaml:1: YAML syntax error/);
  });
});
