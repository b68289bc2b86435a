// Every setting of the stack in one catalogue, from the tables each service declares (server and
// web app config.ts, nginx/edge-settings.tsv and the address settings of nginx/routes.yaml), and what docker-compose.yml and the manifests in
// deploy/base set of them. docs/configuration.md is written from this (configuration-docs.ts), and
// configuration.test.ts holds the deployment files to it.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loggingSettings, nodeRuntimeSettings, openTelemetrySettings, type SettingsTable } from '@dice/common';
import { isMap, isScalar, isSeq, parseAllDocuments, parseDocument, type Node, type Pair, type YAMLMap } from 'yaml';
import { parseRouteFile } from '../nginx/routes/route-file.ts';
import { serverSettings } from '../server/src/config.ts';
import { webappSettings, webappTracingSettings } from '../webapp/src/config.ts';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));

/** One variable as docs/configuration.md lists it. */
export interface SettingEntry {
  name: string;
  /** undefined: required, or computed (the meaning says how). */
  defaultText: string | undefined;
  allowed: string;
  meaning: string;
  /** `runtime`: read by Node or grpc-js, not by the project's code. */
  readBy: 'service' | 'runtime';
  /** No fixed default: computed from the container when unset (the meaning says how). */
  computed?: boolean;
}

export type ServiceName = 'server' | 'nginx' | 'webapp';

/** The compose service and the Deployment in deploy/base that run each image. */
export const deployments: Record<ServiceName, { title: string; manifest: string; deployment: string }> = {
  server: { title: 'Server (`server/src/config.ts`)', manifest: 'deploy/base/server.yaml', deployment: 'dice-server' },
  nginx: { title: 'Edge (`nginx/edge-settings.tsv`)', manifest: 'deploy/base/edge.yaml', deployment: 'dice-edge' },
  webapp: { title: 'Web app (`webapp/src/config.ts`)', manifest: 'deploy/base/webapp.yaml', deployment: 'dice-webapp' },
};

function fromTable(table: SettingsTable): SettingEntry[] {
  return Object.entries(table).map(([name, setting]) => ({ name, defaultText: setting.defaultText, allowed: setting.allowed, meaning: setting.meaning, readBy: 'service' }));
}

function runtimeEntries(): SettingEntry[] {
  return [
    ...Object.entries(nodeRuntimeSettings).map(([name, setting]) => ({ name, defaultText: setting.defaultText, allowed: 'see Node and grpc-js', meaning: setting.meaning, readBy: 'runtime' as const })),
    ...Object.entries(openTelemetrySettings).map(([name, setting]) => ({ name, defaultText: setting.defaultText, allowed: 'see the OpenTelemetry specification', meaning: setting.meaning, readBy: 'runtime' as const })),
  ];
}

/**
 * nginx/edge-settings.tsv, as render-edge-settings.sh reads it, and the address setting of each other
 * upstream of nginx/routes.yaml (declared there, with its default address; EDGE_UPSTREAM has its row).
 */
export function edgeSettings(): SettingEntry[] {
  const table = readFileSync(join(repoRoot, 'nginx/edge-settings.tsv'), 'utf8')
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [name = '', defaultText = '', pattern = '', mustBe = '', meaning = ''] = line.split('\t');
      return { name, defaultText: defaultText === '-' ? undefined : defaultText, allowed: mustBe || pattern, meaning, readBy: 'service' as const, computed: defaultText === '-' };
    });
  const routes = parseRouteFile(readFileSync(join(repoRoot, 'nginx/routes.yaml'), 'utf8'), 'nginx/routes.yaml');
  const fromRoutes = routes.upstreams
    .filter((upstream) => upstream.addressSetting && !table.some((entry) => entry.name === upstream.addressSetting))
    .map((upstream) => ({ name: upstream.addressSetting ?? '', defaultText: upstream.address, allowed: `a DNS name and port, like ${upstream.address}`, meaning: `The DNS name and port of upstream ${upstream.name} of nginx/routes.yaml (its address setting), re-resolved every 5 s; unset: the address the route file gives it.`, readBy: 'service' as const }));
  return [...table, ...fromRoutes];
}

/** The web app's own tracing.ts reads these, by the names OpenTelemetry's Node distributions give them. */
const tracingEntries: SettingEntry[] = Object.entries(webappTracingSettings).map(([name, setting]) => ({ name, defaultText: setting.defaultText, allowed: 'instrumentation names, comma-separated', meaning: setting.meaning, readBy: 'service' }));

/** Every variable each image reads. */
export function settingsByService(): Record<ServiceName, SettingEntry[]> {
  return { server: [...fromTable(serverSettings), ...runtimeEntries()], nginx: edgeSettings(), webapp: [...fromTable(webappSettings), ...tracingEntries, ...runtimeEntries()] };
}

/** The variables both Node services share, listed once in the docs. */
export const sharedSettingNames = Object.keys(loggingSettings);

/** How a deployment file sets one variable. */
export interface SetVariable {
  service: ServiceName;
  name: string;
  /** `passed`: from the environment of whoever runs compose (hostName), else composeDefault; `fixed`: this value. */
  mode: 'passed' | 'fixed';
  value: string;
  hostName?: string;
  composeDefault?: string;
  /** The comment written just above (or beside) the entry. */
  comment: string | undefined;
  /** Where it is, for a test's message. */
  where: string;
  /** The file and service or Deployment it belongs to: a helper variable is used within its scope. */
  scope: string;
}

const passThrough = /^\$\{([A-Z][A-Z0-9_]*):-(.*)\}$/s;

type Commented = { commentBefore?: string | null; spaceBefore?: boolean; comment?: string | null };

/**
 * The comment that explains each entry of a map or list: the one above it (yaml gives the first
 * entry's to its container) or beside its value; a comment above a group of entries, with no blank
 * line between them, explains each of the group.
 */
function commentsOf(container: Commented, entries: { node: Commented | undefined; value?: Commented | undefined }[]): (string | undefined)[] {
  let group: string | undefined;
  return entries.map(({ node, value }, index) => {
    const above = node?.commentBefore ?? (index === 0 ? container.commentBefore : undefined);
    if (typeof above === 'string' && above.trim() !== '') group = above.trim();
    else if (node?.spaceBefore) group = undefined;
    const text = [group, value?.comment?.trim()].filter((part) => part !== undefined && part !== '').join(' ');
    return text === '' ? undefined : text;
  });
}

/** The environment entries of each service in docker-compose.yml. */
export function composeVariables(file = 'docker-compose.yml'): SetVariable[] {
  const document = parseDocument(readFileSync(resolve(repoRoot, file), 'utf8'));
  const found: SetVariable[] = [];
  for (const service of Object.keys(deployments) as ServiceName[]) {
    const environment = document.getIn(['services', service, 'environment']);
    if (environment === undefined) continue;
    if (!isMap(environment)) throw new Error(`${file}: services.${service}.environment must be a map (NAME: value), so each entry can carry its comment`);
    const comments = commentsOf(environment, environment.items.map((pair) => ({ node: pair.key as Commented, value: isScalar(pair.value) ? pair.value : undefined })));
    environment.items.forEach((pair: Pair<unknown, unknown>, index) => {
      const key = pair.key as Node & { value: unknown };
      const value = isScalar(pair.value) ? String(pair.value.value ?? '') : '';
      const comment = comments[index];
      const name = String(key.value);
      const match = passThrough.exec(value);
      const scope = `${file}: services.${service}`;
      const where = `${scope}.environment.${name}`;
      found.push(match ? { service, name, mode: 'passed', value, hostName: match[1] ?? '', composeDefault: match[2] ?? '', comment, where, scope } : { service, name, mode: 'fixed', value, comment, where, scope });
    });
  }
  return found;
}

/** Names docker-compose.yml interpolates, with the default it gives each (`${NAME:-default}`). */
export function composeInterpolations(file = 'docker-compose.yml'): Map<string, string> {
  // Compose interpolates values, not comments.
  const text = readFileSync(resolve(repoRoot, file), 'utf8').replace(/^\s*#.*$/gm, '');
  const names = new Map<string, string>();
  for (const match of text.matchAll(/\$\{([A-Z][A-Z0-9_]*)(?::-((?:[^{}]|\$\{[^}]*\})*))?\}/g)) {
    if (!names.has(match[1] ?? '')) names.set(match[1] ?? '', match[2] ?? '');
  }
  return names;
}

/** The env entries of the one container of each Deployment in deploy/base. */
export function manifestVariables(): SetVariable[] {
  const found: SetVariable[] = [];
  for (const [service, { manifest, deployment }] of Object.entries(deployments) as [ServiceName, (typeof deployments)[ServiceName]][]) {
    for (const document of parseAllDocuments(readFileSync(join(repoRoot, manifest), 'utf8'))) {
      if (document.get('kind') !== 'Deployment' || document.getIn(['metadata', 'name']) !== deployment) continue;
      const containers = document.getIn(['spec', 'template', 'spec', 'containers']);
      if (!isSeq(containers)) continue;
      for (const container of containers.items) {
        const env = isMap(container) ? container.get('env') : undefined;
        if (!isSeq(env)) continue;
        const comments = commentsOf(env, env.items.map((entry) => ({ node: entry as Commented })));
        env.items.forEach((entry, index) => {
          const item = entry as YAMLMap;
          const name = String(item.get('name'));
          const scope = `${manifest}: ${deployment}`;
          const value = item.get('value');
          // No value: valueFrom, a helper the manifest interpolates into another entry with $(NAME).
          found.push({ service, name, mode: 'fixed', value: value === undefined ? '(valueFrom)' : String(value), comment: comments[index], where: `${scope} env ${name}`, scope });
        });
      }
    }
  }
  return found;
}

/** The host-side name compose may pass a variable through as, when two services share the name or the host has its own. */
export const hostNameFor = (service: ServiceName, name: string): string => `${service.toUpperCase()}_${name}`;

/**
 * What is wrong with how a deployment file sets its variables: an unknown name, a value that only
 * repeats the default (the default lives in the service's table), a fixed value or a compose default
 * without a comment saying why, a pass-through under a name that is neither the variable's own nor
 * SERVICE_NAME.
 */
export function settingProblems(variables: SetVariable[], settings = settingsByService()): string[] {
  const problems: string[] = [];
  for (const variable of variables) {
    const known = settings[variable.service].find((setting) => setting.name === variable.name);
    const helper = variable.value === '(valueFrom)' && variables.some((other) => other.scope === variable.scope && other.value.includes(`$(${variable.name})`));
    if (!known) {
      if (!helper) problems.push(`${variable.where}: ${variable.name} is not a ${variable.service} setting (docs/configuration.md lists them)`);
      else if (!variable.comment) problems.push(`${variable.where}: say in a comment what ${variable.name} is for`);
      continue;
    }
    if (variable.mode === 'passed') {
      if (variable.hostName !== variable.name && variable.hostName !== hostNameFor(variable.service, variable.name)) {
        problems.push(`${variable.where}: pass ${variable.name} through as \${${variable.name}:-} (or \${${hostNameFor(variable.service, variable.name)}:-}), not as ${variable.hostName}`);
      }
      if (variable.composeDefault !== '' && variable.composeDefault === known.defaultText) problems.push(`${variable.where}: the default ${variable.composeDefault} repeats the service's own; write \${${variable.hostName}:-}`);
      else if (variable.composeDefault !== '' && !variable.comment) problems.push(`${variable.where}: say in a comment why compose's default (${variable.composeDefault}) differs from the service's (${known.defaultText ?? 'none'})`);
    } else if (variable.value === known.defaultText) {
      problems.push(`${variable.where}: ${variable.value} is ${variable.name}'s default; leave it out`);
    } else if (!variable.comment) {
      problems.push(`${variable.where}: say in a comment why ${variable.name} is ${variable.value} here`);
    }
  }
  return problems;
}

/** The meaning of each compose-level variable (image names, ports, mounts), for the docs. */
export const composeLevelMeanings: Record<string, string> = {
  REGISTRY: 'The registry part of the image names `make images` builds and a cluster pulls.',
  TAG: 'The tag of those images.',
  NODE_IMAGE: 'The base image of the server and the web app (`make env` picks it; docs/offline-builds.md).',
  NGINX_IMAGE: 'The base image of the edge (`make env` picks it).',
  APP_UID: 'The user the edge and the web app run as, so they can read the mounted keys (`make env` sets it).',
  APP_GID: 'Their group.',
  NGINX_PUBLISH: "The host side of the edge's published gRPC port.",
  WEBAPP_PUBLISH: "The host side of the web app's published port.",
  LOG_DRIVER: "Docker's log driver for every container.",
  CERTS_DIR: 'The directory of the PKI the containers mount (`make certs` writes it).',
  CLIENT_CA_FILE: 'The CA client certificates must chain to, when not the project CA.',
  CLIENT_CRL_FILE: "That CA's CRL.",
  SERVER_CA_FILE: "The CA that signed the edge's certificate, for the web app, when not the project CA.",
  CERT_LIFETIME: "How long the stack's leaves (server.pem, client.pem) live when `make certs` or the renewer issues them: 24h by default (90s, 15m, 30d...).",
  CERT_RENEW_BEFORE: 'The renewer renews a leaf once less than this is left (default: a third of its lifetime).',
  CERT_RENEW_INTERVAL: 'How often the renewer looks at the leaves and CRLs (default 1m).',
  LOG_LEVEL: 'Both services\' LOG_LEVEL (`LOG_LEVEL=debug make up`), unless the one below names a service\'s own.',
  SERVER_LOG_LEVEL: "The server's LOG_LEVEL, over LOG_LEVEL.",
  WEBAPP_LOG_LEVEL: "The web app's LOG_LEVEL, over LOG_LEVEL.",
  SERVER_NODE_OPTIONS: "The server's NODE_OPTIONS.",
  SERVER_GRPC_TRACE: "The server's GRPC_TRACE.",
  SERVER_GRPC_VERBOSITY: "The server's GRPC_VERBOSITY.",
};
