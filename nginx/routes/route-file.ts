// nginx/routes.yaml, read and checked: what the edge forwards, to which upstream, under which limits.
// Every mistake is one sentence with the file's line, so a person can fix it without reading nginx.
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node, type YAMLMap } from 'yaml';

export interface Upstream {
  name: string;
  /** host:port from the file. */
  address: string;
  /** The EDGE_* variable that replaces the address at container start (a cluster's DNS name), if any. */
  addressSetting?: string;
  /** Idle connections kept per worker; undefined: EDGE_UPSTREAM_KEEPALIVE. */
  keepalive?: number;
}

/** Per-route limits; each one left out keeps the edge-wide EDGE_* setting. */
export interface RouteLimits {
  /** A unary call's request (nginx size, like 64k or 4m). */
  maxRequestSize?: string;
  /** How long a unary call's backend may stay silent (nginx duration, like 30s). */
  upstreamTimeout?: string;
  /** How long a stream may stay quiet either way (nginx duration, like 5m). */
  streamIdleTimeout?: string;
  /** Calls per client certificate to this route's methods (nginx rate, like 100r/s), instead of EDGE_RATE_LIMIT. */
  rateLimit?: string;
  /** Calls above the rate a certificate may make at once; undefined: one second's worth of the rate. */
  rateBurst?: number;
}

export interface Route {
  /** Full service names, like api.DiceService. */
  services: string[];
  /** The .proto files that define them, as written in the file. */
  protos: string[];
  upstream: string;
  limits: RouteLimits;
  /** The route's line in the file, for the errors found later (a service missing from its protos). */
  line: number;
}

export interface RouteTable {
  upstreams: Upstream[];
  routes: Route[];
}

export class RouteFileError extends Error {}

const sizePattern = /^[1-9][0-9]*[kKmM]?$/;
const durationPattern = /^[1-9][0-9]*(ms|s|m|h)$/;
const ratePattern = /^[1-9][0-9]*r\/[sm]$/;
const namePattern = /^[a-z][a-z0-9_]*$/;
const servicePattern = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const hostPattern = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/;
const settingPattern = /^EDGE_[A-Z0-9_]+$/;

/** Reads the route file's text; `source` names it in the errors. */
export function parseRouteFile(text: string, source: string): RouteTable {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: true });
  const lineOf = (node: Node | null | undefined): number => (node?.range ? lineCounter.linePos(node.range[0]).line : 1);
  const fail = (node: Node | null | undefined, sentence: string): never => {
    throw new RouteFileError(`${source}:${lineOf(node)}: ${sentence}`);
  };
  const [firstError] = document.errors;
  if (firstError) throw new RouteFileError(`${source}:${firstError.linePos?.[0].line ?? 1}: ${firstError.message.split('\n')[0]}`);

  /** A map's entries, refusing keys it does not know and requiring those it needs. */
  const entries = (node: Node | null | undefined, what: string, known: readonly string[], required: readonly string[]): Map<string, Node | null> => {
    if (!isMap(node)) return fail(node, `${what} must be a mapping of ${known.join(', ')}`);
    const found = new Map<string, Node | null>();
    for (const pair of (node as YAMLMap).items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!known.includes(key)) fail(pair.key as Node, `unknown key "${key}" in ${what}; it takes ${known.join(', ')}`);
      found.set(key, pair.value as Node | null);
    }
    for (const key of required) if (!found.has(key)) fail(node, `${what} has no "${key}"`);
    return found;
  };
  const text_ = (node: Node | null | undefined, what: string, pattern: RegExp, mustBe: string): string => {
    const value = isScalar(node) ? node.value : undefined;
    if ((typeof value !== 'string' && typeof value !== 'number') || !pattern.test(String(value))) return fail(node, `${what} must be ${mustBe} (got ${JSON.stringify(value ?? null)})`);
    return String(value);
  };
  const list = (node: Node | null | undefined, what: string, pattern: RegExp, mustBe: string): { value: string; node: Node }[] => {
    if (!isSeq(node) || node.items.length === 0) return fail(node, `${what} must be a list of at least one ${mustBe}`);
    return node.items.map((item) => ({ value: text_(item as Node, what, pattern, mustBe), node: item as Node }));
  };

  const top = entries(document.contents, 'the route file', ['upstreams', 'routes'], ['upstreams', 'routes']);

  const upstreamsNode = top.get('upstreams');
  if (!isMap(upstreamsNode) || upstreamsNode.items.length === 0) fail(upstreamsNode, 'upstreams must name at least one upstream');
  const upstreams = (upstreamsNode as YAMLMap).items.map((pair): Upstream => {
    const name = text_(pair.key as Node, 'an upstream\'s name', namePattern, 'lower case letters, digits and _, starting with a letter');
    const fields = entries(pair.value as Node, `upstream ${name}`, ['address', 'port', 'address_setting', 'keepalive'], ['address', 'port']);
    const host = text_(fields.get('address'), `upstream ${name}'s address`, hostPattern, 'a DNS name or an IPv4 address, without the port');
    const port = Number(text_(fields.get('port'), `upstream ${name}'s port`, /^[1-9][0-9]{0,4}$/, 'a port number'));
    if (port > 65535) fail(fields.get('port'), `upstream ${name}'s port must be a port number (got ${port})`);
    const addressSetting = fields.has('address_setting') ? text_(fields.get('address_setting'), `upstream ${name}'s address_setting`, settingPattern, 'the name of an EDGE_* variable') : undefined;
    const keepalive = fields.has('keepalive') ? Number(text_(fields.get('keepalive'), `upstream ${name}'s keepalive`, /^[0-9]+$/, 'a number of idle connections per worker')) : undefined;
    return { name, address: `${host}:${port}`, ...(addressSetting ? { addressSetting } : {}), ...(keepalive !== undefined ? { keepalive } : {}) };
  });

  const routesNode = top.get('routes');
  if (!isSeq(routesNode) || routesNode.items.length === 0) fail(routesNode, 'routes must be a list of at least one route');
  const routedBy = new Map<string, number>();
  const routes = (routesNode as { items: Node[] }).items.map((item): Route => {
    const fields = entries(item, 'a route', ['services', 'protos', 'upstream', 'limits'], ['services', 'protos', 'upstream']);
    const services = list(fields.get('services'), 'a route\'s services', servicePattern, 'full service name, like api.DiceService');
    for (const { value, node } of services) {
      const earlier = routedBy.get(value);
      if (earlier !== undefined) fail(node, `${value} has a route already (line ${earlier}); a service has one route`);
      routedBy.set(value, lineOf(node));
    }
    const protos = list(fields.get('protos'), 'a route\'s protos', /\.proto$/, '.proto file');
    const upstream = text_(fields.get('upstream'), 'a route\'s upstream', namePattern, 'the name of an upstream');
    if (!upstreams.some((candidate) => candidate.name === upstream)) fail(fields.get('upstream'), `upstream "${upstream}" is not declared under upstreams (${upstreams.map((known) => known.name).join(', ')})`);
    const limits: RouteLimits = {};
    if (fields.has('limits')) {
      const given = entries(fields.get('limits'), 'a route\'s limits', ['max_request_size', 'upstream_timeout', 'stream_idle_timeout', 'rate_limit', 'rate_burst'], []);
      if (given.has('max_request_size')) limits.maxRequestSize = text_(given.get('max_request_size'), 'max_request_size', sizePattern, 'a size like 64k or 4m');
      if (given.has('upstream_timeout')) limits.upstreamTimeout = text_(given.get('upstream_timeout'), 'upstream_timeout', durationPattern, 'a duration like 30s or 500ms');
      if (given.has('stream_idle_timeout')) limits.streamIdleTimeout = text_(given.get('stream_idle_timeout'), 'stream_idle_timeout', durationPattern, 'a duration like 60s or 5m');
      if (given.has('rate_limit')) limits.rateLimit = text_(given.get('rate_limit'), 'rate_limit', ratePattern, 'a rate like 100r/s or 600r/m');
      if (given.has('rate_burst')) {
        if (!limits.rateLimit) fail(given.get('rate_burst'), 'rate_burst needs a rate_limit beside it');
        limits.rateBurst = Number(text_(given.get('rate_burst'), 'rate_burst', /^[0-9]+$/, 'a whole number of calls'));
      }
    }
    return { services: services.map(({ value }) => value), protos: protos.map(({ value }) => value), upstream, limits, line: lineOf(item) };
  });
  return { upstreams, routes };
}
