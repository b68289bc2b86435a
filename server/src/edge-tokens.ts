import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync, type Stats } from 'node:fs';
import { ConfigError } from '@dice/common';
import type { Logger } from 'pino';

/**
 * The tokens that prove a call came through the edge. The hop from nginx to the server is plaintext
 * h2c, so anything that reaches port 50051 could send x-ssl-client-verify: SUCCESS with a copy of
 * any client's certificate (certificates are not secret); NetworkPolicy stops that only where the
 * cluster's network plugin enforces it. The edge adds a secret it shares with the server to every
 * call it forwards (x-dice-edge-token, replacing any a client sent), and the server believes the
 * forwarded identity only on a call that carries it.
 *
 * The file holds one token per line: the edge sends the first, the server accepts any. Rotating is
 * three writes of the one file both read (docs/identity-and-access.md): add the new token second,
 * put it first, drop the old one; the server re-reads the file within a second of a change.
 */
export interface EdgeTokens {
  accepts(token: string | undefined): boolean;
  /** Stops following the file. */
  close(): void;
}

const tokenSyntax = /^[A-Za-z0-9._~+/=-]{32,512}$/;
const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** The tokens of a token file's text: one per line, blank lines and # comments left out. */
export function parseEdgeTokens(text: string): string[] {
  const tokens = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  if (tokens.length === 0) throw new Error('it names no token');
  const bad = tokens.findIndex((token) => !tokenSyntax.test(token));
  if (bad >= 0) throw new Error(`token ${bad + 1} is not 32 to 512 letters, digits or ._~+/=- (make certs writes one: openssl rand -hex 32)`);
  return tokens;
}

function read(path: string): Buffer[] {
  return parseEdgeTokens(readFileSync(path, 'utf8')).map(digest);
}

/**
 * Reads the token file (a ConfigError naming `variable` when it cannot) and re-reads it when it
 * changes (polled, so a Secret's swapped ..data link counts); a file that turns unreadable or
 * malformed is logged and the tokens read before are kept.
 */
export function watchEdgeTokens(path: string, logger: Logger, { variable = 'EDGE_TOKEN_FILE', intervalMs = 1000 } = {}): EdgeTokens {
  // The file's state when it was last read. Taken before reading: a write in between only causes one
  // more read. (fs.watchFile takes its first look later, on its own, and missed a rotation made in
  // that moment: the file changed, and the watcher never saw it differ.)
  let seen: Stats | undefined;
  let accepted: Buffer[];
  try {
    seen = statSync(path);
    accepted = read(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(`${variable} points to ${path}, which cannot be used (${reason}): mount the edge token file the edge reads too (make certs writes certs/edge-token)`);
  }
  const check = (): void => {
    let now: Stats | undefined;
    try {
      now = statSync(path);
    } catch {
      now = undefined;
    }
    if (now && seen && now.mtimeMs === seen.mtimeMs && now.ino === seen.ino && now.size === seen.size) return;
    if (!now && !seen) return;
    seen = now;
    try {
      accepted = read(path);
      logger.info({ tokens: accepted.length }, 'edge token file changed: the tokens it names are accepted now');
    } catch (error) {
      logger.error({ path, reason: (error as NodeJS.ErrnoException).code ?? (error as Error).message }, 'edge token file changed but cannot be used; the tokens read before are still accepted');
    }
  };
  const timer = setInterval(check, intervalMs);
  // Like the certificates' watchers: never what keeps the process alive.
  timer.unref();
  return {
    accepts(token) {
      if (token === undefined) return false;
      const given = digest(token);
      // Every accepted token is compared, in constant time each, so timing says nothing of which matched.
      return accepted.reduce((matched, candidate) => timingSafeEqual(given, candidate) || matched, false);
    },
    close: () => clearInterval(timer),
  };
}
