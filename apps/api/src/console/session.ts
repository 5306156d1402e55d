import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * operator  may change things (the API token).
 * viewer    sees everything, changes nothing (OPS_VIEWER_TOKEN).
 */
export type ConsoleRole = 'operator' | 'viewer';

export interface Session {
  role: ConsoleRole;
  /** Epoch ms. */
  expiresAt: number;
}

export const SESSION_COOKIE = 'opsloop_session';
/** A console session lasts this long, then the login page asks again. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Signs and checks session cookies: `<base64url payload>.<base64url HMAC-SHA256>`. The key is
 * derived from the API token, so rotating the token ends every console session.
 */
export function sessionSigner(apiToken: string) {
  const key = createHmac('sha256', apiToken).update('opsloop console session v1').digest();
  const mac = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    sign(session: Session): string {
      const payload = Buffer.from(JSON.stringify({ r: session.role, e: session.expiresAt })).toString('base64url');
      return `${payload}.${mac(payload)}`;
    },
    /** The session, or undefined when the cookie is forged, malformed or expired. */
    verify(cookie: string | undefined, now: number): Session | undefined {
      if (!cookie) return undefined;
      const [payload, signature, ...rest] = cookie.split('.');
      if (!payload || !signature || rest.length) return undefined;
      if (!equal(signature, mac(payload))) return undefined;
      try {
        const { r, e } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { r?: unknown; e?: unknown };
        if ((r !== 'operator' && r !== 'viewer') || typeof e !== 'number' || e <= now) return undefined;
        return { role: r, expiresAt: e };
      } catch {
        return undefined;
      }
    },
  };
}

const digest = (v: string) => createHash('sha256').update(v).digest();

/** Constant-time string comparison (hashing first gives equal lengths). */
export function equal(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/** Which role a presented login token grants, if any. */
export function roleForToken(token: string, tokens: { apiToken: string; viewerToken?: string }): ConsoleRole | undefined {
  // Both comparisons always run, so timing does not tell which token was close.
  const operator = equal(token, tokens.apiToken);
  const viewer = tokens.viewerToken !== undefined && equal(token, tokens.viewerToken);
  return operator ? 'operator' : viewer ? 'viewer' : undefined;
}

/** Reads one cookie from a Cookie header (no dependency for one value). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
