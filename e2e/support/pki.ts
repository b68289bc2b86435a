// The one throwaway PKI of the e2e suites, make soak and make bench: the project's own scripts
// (make-certs.sh, client-cert.sh, rotate-certs.sh) run against a directory of the test's, so what is
// tested is what `make certs` issues.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClientIdentity } from './edge-client.ts';
import { repoRoot } from './stack.ts';

/** Files a client presents: the CA it trusts for the edge, and its own pair. */
export type ClientFiles = Required<ClientIdentity>;

export interface ClientToIssue {
  name: string;
  /** VALID_FROM / VALID_UNTIL / EKU, as client-cert.sh takes them, for certificates the edge must refuse. */
  env?: Record<string, string>;
}

export interface PkiOptions {
  /** Where to write; a fresh temporary directory by default (remove() deletes it). */
  dir?: string;
  /** Client certificates to issue beside the web app's (an existing one is kept). */
  clients?: (string | ClientToIssue)[];
  /** CA_NAME: give a client CA and a server CA different names. */
  caName?: string;
  /** KEY_TYPE of make-certs.sh (ecdsa by default). */
  keyType?: 'ecdsa' | 'rsa';
  /** TWO_CAS=1: a client CA (client-ca.pem) apart from the server CA (ca.pem). */
  twoCas?: boolean;
  /** CERT_LIFETIME of server.pem and client.pem (make-certs.sh's default, 24h, otherwise). */
  lifetime?: string;
}

export interface Pki {
  dir: string;
  /** ca.pem: the CA of the edge's certificate (the server CA), which clients trust. */
  ca: string;
  /** client-ca.pem: the CA of the client certificates, which the edge trusts (ca.pem with one CA). */
  clientCa: string;
  /** The web app's client certificate (client.pem), issued by make-certs.sh. */
  webapp: ClientFiles;
  /** The files of a client issued by name (clients/NAME.pem). */
  client(name: string): ClientFiles;
  /** The edge's server certificate and key. */
  server: { cert: string; key: string };
  /** Issues another client certificate now. */
  issue(client: string | ClientToIssue): ClientFiles;
  /** Runs another of the project's PKI scripts (rotate-certs.sh, revoke.sh) against this directory, with extra variables. */
  run(script: string, args?: string[], env?: Record<string, string>): void;
  remove(): void;
}

/** Issues a PKI with make-certs.sh and the named clients with client-cert.sh; throws with the script's words. */
export function issuePki({ dir, clients = [], caName, keyType, twoCas = false, lifetime }: PkiOptions = {}): Pki {
  const owned = dir === undefined;
  const root = dir ?? mkdtempSync(join(tmpdir(), 'dice-pki-'));
  const env = { ...process.env, CERTS_DIR: root, ...(caName ? { CA_NAME: caName } : {}), ...(keyType ? { KEY_TYPE: keyType } : {}), ...(twoCas ? { TWO_CAS: '1' } : {}), ...(lifetime ? { CERT_LIFETIME: lifetime } : {}) };
  const run = (script: string, args: string[], extra: Record<string, string> = {}): void => {
    const result = spawnSync('bash', [join(repoRoot, 'scripts', script), ...args], { env: { ...env, ...extra }, encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`scripts/${script} ${args.join(' ')} failed in ${root}: ${result.stderr.trim() || result.error?.message}`);
  };
  const ca = join(root, 'ca.pem');
  const client = (name: string): ClientFiles => ({ ca, cert: join(root, 'clients', `${name}.pem`), key: join(root, 'clients', `${name}-key.pem`) });
  const issue = (wanted: string | ClientToIssue): ClientFiles => {
    const { name, env: extra = {} } = typeof wanted === 'string' ? { name: wanted } : wanted;
    if (!existsSync(client(name).cert)) run('client-cert.sh', [name], extra);
    return client(name);
  };

  run('make-certs.sh', []);
  for (const wanted of clients) issue(wanted);
  return {
    dir: root,
    ca,
    clientCa: join(root, 'client-ca.pem'),
    webapp: { ca, cert: join(root, 'client.pem'), key: join(root, 'client-key.pem') },
    client,
    server: { cert: join(root, 'server.pem'), key: join(root, 'server-key.pem') },
    issue,
    run: (script, args = [], extra = {}) => run(script, args, extra),
    remove: () => {
      if (owned) rmSync(root, { recursive: true, force: true });
    },
  };
}
