// The route table and its protos, rendered into what nginx reads: a location per method (unary
// methods the unary limits, every streaming method the stream settings: the two traps of forwarding
// gRPC with one location per service), an answer for unknown methods and services naming what the
// edge serves, one upstream per backend, and the list of upstreams the entrypoint fills in at start.
import type { MethodKind, ServiceMethods } from './proto-methods.ts';
import type { Route, RouteTable } from './route-file.ts';

export interface RenderedRoutes {
  /** Locations, included in the edge's server block (conf.d/grpc-edge.conf). */
  locations: string;
  /** One upstream block per backend, at the http level. */
  upstreams: string;
  /** name, address, address setting (or -), keepalive (or -): read by render-edge-settings.sh at start. */
  upstreamsTable: string;
  /** service, method path: every method the edge forwards, which EDGE_ACCESS_POLICY is checked against at start. */
  methodsTable: string;
}

const header = (source: string): string => `# Rendered from ${source} at image build (nginx/routes/edge-routes.ts); edit that file, not this one.\n`;

/** Text for inside an nginx double-quoted string (it goes in a grpc-message header): no quote, backslash or variable. */
const literal = (text: string): string => text.replace(/["\\$]/g, '');

const listed = (names: string[]): string => (names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`);

const streams = (kind: MethodKind): boolean => kind !== 'unary';

/** A rate's calls per second (600r/m is 10), at least 1: a route's default burst is one second of it. */
const perSecond = (rate: string): number => {
  const [count = '1', unit] = rate.split('r/');
  return Math.max(1, Math.ceil(Number(count) / (unit === 'm' ? 60 : 1)));
};

/** The shared-memory zone of a route's own rate limit: named by its first service. */
const rateZone = (route: Route): string => `route_${(route.services[0] ?? '').replace(/\./g, '_')}`;

function methodLocation(route: Route, path: string, kind: MethodKind): string[] {
  const { maxRequestSize, upstreamTimeout, streamIdleTimeout, rateLimit, rateBurst } = route.limits;
  // $edge_backend names the upstream in the edge's own UNAVAILABLE and DEADLINE_EXCEEDED answers.
  const lines = [`    # ${kind}`, `    location = ${path} {`, `        set $edge_backend ${route.upstream};`, `        grpc_pass grpc://${route.upstream};`];
  // A limit_req here replaces the edge-wide one (EDGE_RATE_LIMIT) for this route's methods.
  if (rateLimit) lines.push(`        limit_req zone=${rateZone(route)} burst=${rateBurst ?? perSecond(rateLimit)} nodelay;`);
  if (!streams(kind)) {
    lines.push('        include /etc/nginx/snippets/grpc-proxy.conf;');
    if (maxRequestSize) lines.push(`        client_max_body_size ${maxRequestSize};`, `        set $edge_max_request_size ${maxRequestSize};`);
    if (upstreamTimeout) lines.push(`        grpc_read_timeout ${upstreamTimeout};`, `        grpc_send_timeout ${upstreamTimeout};`, `        set $edge_upstream_timeout ${upstreamTimeout};`);
  } else if (streamIdleTimeout) {
    // The stream settings with this route's idle timeout instead of EDGE_STREAM_IDLE_TIMEOUT.
    lines.push('        include /etc/nginx/snippets/grpc-proxy.conf;', '        include /tmp/nginx/stream-size.conf;');
    lines.push(`        grpc_read_timeout ${streamIdleTimeout};`, `        grpc_send_timeout ${streamIdleTimeout};`, `        client_body_timeout ${streamIdleTimeout};`);
  } else {
    lines.push('        include /etc/nginx/snippets/grpc-stream.conf;');
  }
  lines.push('    }');
  return lines;
}

/** Renders the table; `services` has every service of every route (servicesIn over its protos). */
export function renderRoutes(table: RouteTable, services: Map<string, ServiceMethods>, source: string): RenderedRoutes {
  const routed = table.routes.flatMap((route) => route.services);
  const locations: string[] = [header(source)];
  const methodRows: string[] = [];
  for (const route of table.routes) {
    for (const name of route.services) {
      const service = services.get(name);
      if (!service) throw new Error(`${name} is not defined in ${route.protos.join(', ')}`);
      const methods = service.methods.map((method) => method.name);
      locations.push(`    # ${name} -> upstream ${route.upstream}`);
      for (const method of service.methods) {
        locations.push(...methodLocation(route, method.path, method.kind));
        methodRows.push(`${name}\t${method.path}`);
      }
      // A method the protos do not have is answered here, never forwarded.
      locations.push(
        `    location /${name}/ {`,
        '        set $grpc_status 12;',
        // $request_uri as the client sent it (still percent-encoded): a decoded path could carry CR LF into the header.
        `        set $grpc_message "unknown method $request_uri: ${literal(`${name} has ${listed(methods)}`)}";`,
        '        include /etc/nginx/snippets/grpc-status-response.conf;',
        '    }',
        '',
      );
    }
  }
  locations.push(
    '    # Unknown services are answered here: nothing else of any backend is exposed.',
    '    location / {',
    '        set $grpc_status 12;',
    `        set $grpc_message "${literal(`unknown service: this endpoint serves ${listed(routed)}`)}";`,
    '        include /etc/nginx/snippets/grpc-status-response.conf;',
    '    }',
  );

  const upstreams: string[] = [header(source)];
  for (const route of table.routes.filter((candidate) => candidate.limits.rateLimit)) {
    upstreams.push(
      `# The rate limit of the route of ${route.services.join(', ')}, per client certificate (as EDGE_RATE_LIMIT).`,
      `limit_req_zone $ssl_client_fingerprint zone=${rateZone(route)}:10m rate=${route.limits.rateLimit};`,
      '',
    );
  }
  for (const upstream of table.upstreams) {
    upstreams.push(
      `upstream ${upstream.name} {`,
      '    # Shared memory for the servers found by name at run time.',
      `    zone ${upstream.name} 64k;`,
      `    # The server line (${upstream.address}${upstream.addressSetting ? `, or ${upstream.addressSetting}` : ''}, re-resolved every 5 s), keepalive and`,
      '    # keepalive_requests, rendered at container start by render-edge-settings.sh.',
      `    include /tmp/nginx/upstream-${upstream.name}.conf;`,
      '    keepalive_timeout 60s;',
      '}',
      '',
    );
  }
  const upstreamsTable = table.upstreams.map((upstream) => [upstream.name, upstream.address, upstream.addressSetting ?? '-', upstream.keepalive ?? '-'].join('\t')).join('\n');
  return { locations: `${locations.join('\n')}\n`, upstreams: upstreams.join('\n'), upstreamsTable: `${upstreamsTable}\n`, methodsTable: `${methodRows.join('\n')}\n` };
}
