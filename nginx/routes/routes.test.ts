// routes.yaml to nginx: a proto this project has never seen, with a method of each kind, rendered
// into the locations nginx reads; and every kind of mistake in a route file stopped with its line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderRouteFile } from './edge-routes.ts';
import { RouteFileError } from './route-file.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'dice-routes-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

writeFileSync(
  join(scratch, 'ledger.proto'),
  `syntax = "proto3";
package acme.ledger.v1;
message Entry { string id = 1; int64 cents = 2; }
message Summary { int64 total = 1; }
service Ledger {
  rpc Get (Entry) returns (Entry);
  rpc Tail (Entry) returns (stream Entry);
  rpc Upload (stream Entry) returns (Summary);
  rpc Sync (stream Entry) returns (stream Entry);
}
service Audit { rpc Check (Entry) returns (Summary); }
`,
);

/** Writes a route file into the scratch directory and renders it there. */
const render = (yaml: string) => {
  const file = join(scratch, `routes-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  return renderRouteFile(file, scratch);
};
/** The error a route file stops with: its "file:line: sentence" without the file's random name. */
const errorOf = (yaml: string): string => {
  try {
    render(yaml);
  } catch (error) {
    assert.ok(error instanceof RouteFileError, String(error));
    return error.message.replace(/^routes-[a-z0-9]+\.yaml/, 'routes.yaml');
  }
  return assert.fail('the route file was accepted');
};
/** The lines of one location block, by its exact path. */
const location = (conf: string, path: string): string => {
  const start = conf.indexOf(`location = ${path} {`);
  assert.ok(start >= 0, `no location for ${path} in:\n${conf}`);
  return conf.slice(start, conf.indexOf('}', start) + 1);
};

const ledger = `upstreams:
  ledger:
    address: ledger-service
    port: 7000
    keepalive: 4
routes:
  - services: [acme.ledger.v1.Ledger]
    protos: [ledger.proto]
    upstream: ledger
`;

describe('routes.yaml rendered for nginx', () => {
  it('gives each method of a proto it has never seen a location by its kind: unary limits, or the stream settings', () => {
    const { locations, upstreams, upstreamsTable, methodsTable } = render(ledger);
    const unary = location(locations, '/acme.ledger.v1.Ledger/Get');
    assert.match(unary, /grpc_pass grpc:\/\/ledger;/);
    assert.match(unary, /set \$edge_backend ledger;/, 'the edge\'s own UNAVAILABLE names the backend');
    assert.match(unary, /include \/etc\/nginx\/snippets\/grpc-proxy\.conf;/);
    assert.doesNotMatch(unary, /grpc-stream/);
    for (const streaming of ['Tail', 'Upload', 'Sync']) {
      const block = location(locations, `/acme.ledger.v1.Ledger/${streaming}`);
      assert.match(block, /include \/etc\/nginx\/snippets\/grpc-stream\.conf;/, `${streaming} streams: no total size, the stream idle timeout`);
      assert.match(block, /grpc_pass grpc:\/\/ledger;/);
    }
    assert.match(locations, /# client-streaming\n\s+location = \/acme\.ledger\.v1\.Ledger\/Upload/);
    assert.match(locations, /# bidirectional\n\s+location = \/acme\.ledger\.v1\.Ledger\/Sync/);
    // An unknown method of the service, and an unknown service, are answered by the edge.
    assert.match(locations, /location \/acme\.ledger\.v1\.Ledger\/ \{\n\s+set \$grpc_status 12;\n\s+set \$grpc_message "unknown method \$request_uri: acme\.ledger\.v1\.Ledger has Get, Tail, Upload and Sync";/);
    assert.match(locations, /location \/ \{\n\s+set \$grpc_status 12;\n\s+set \$grpc_message "unknown service: this endpoint serves acme\.ledger\.v1\.Ledger";/);
    assert.doesNotMatch(locations, /acme\.ledger\.v1\.Audit/, 'a service of the proto that no route names stays unreachable');
    assert.match(upstreams, /upstream ledger \{\n(.*\n)*?\s+zone ledger 64k;\n(.*\n)*?\s+include \/tmp\/nginx\/upstream-ledger\.conf;/);
    assert.equal(upstreamsTable, 'ledger\tledger-service:7000\t-\t4\n');
    // What EDGE_ACCESS_POLICY is checked against at start: every forwarded method, no other.
    assert.equal(methodsTable, ['Get', 'Tail', 'Upload', 'Sync'].map((method) => `acme.ledger.v1.Ledger\t/acme.ledger.v1.Ledger/${method}\n`).join(''));
  });

  it('puts a route\'s own limits in its locations, and leaves the others to the EDGE_* settings', () => {
    const { locations } = render(`${ledger}    limits:
      max_request_size: 4m
      upstream_timeout: 5s
      stream_idle_timeout: 10m
`);
    const unary = location(locations, '/acme.ledger.v1.Ledger/Get');
    assert.match(unary, /client_max_body_size 4m;\n\s+set \$edge_max_request_size 4m;/);
    assert.match(unary, /grpc_read_timeout 5s;\n\s+grpc_send_timeout 5s;\n\s+set \$edge_upstream_timeout 5s;/);
    const stream = location(locations, '/acme.ledger.v1.Ledger/Sync');
    assert.doesNotMatch(stream, /grpc-stream\.conf/, 'its own timeouts instead of the shared ones');
    assert.match(stream, /include \/tmp\/nginx\/stream-size\.conf;/);
    assert.match(stream, /grpc_read_timeout 10m;\n\s+grpc_send_timeout 10m;\n\s+client_body_timeout 10m;/);
    assert.doesNotMatch(stream, /4m|5s/);
  });

  it('routes several backends, each service to its own upstream', () => {
    const { locations, upstreamsTable } = render(`upstreams:
  ledger: { address: ledger-service, port: 7000 }
  audit: { address: 10.0.0.7, port: 7001, address_setting: EDGE_AUDIT_UPSTREAM }
routes:
  - { services: [acme.ledger.v1.Ledger], protos: [ledger.proto], upstream: ledger }
  - { services: [acme.ledger.v1.Audit], protos: [ledger.proto], upstream: audit }
`);
    assert.match(location(locations, '/acme.ledger.v1.Audit/Check'), /grpc_pass grpc:\/\/audit;/);
    assert.match(location(locations, '/acme.ledger.v1.Ledger/Get'), /grpc_pass grpc:\/\/ledger;/);
    assert.match(locations, /this endpoint serves acme\.ledger\.v1\.Ledger and acme\.ledger\.v1\.Audit"/);
    assert.equal(upstreamsTable, 'ledger\tledger-service:7000\t-\t-\naudit\t10.0.0.7:7001\tEDGE_AUDIT_UPSTREAM\t-\n');
  });

  it('gives a route its own rate limit per client certificate, in place of EDGE_RATE_LIMIT, on every method of it', () => {
    const { locations, upstreams } = render(`${ledger}    limits: { rate_limit: 50r/s }
  - services: [acme.ledger.v1.Audit]
    protos: [ledger.proto]
    upstream: ledger
    limits: { rate_limit: 600r/m, rate_burst: 3 }
`);
    assert.match(upstreams, /^limit_req_zone \$ssl_client_fingerprint zone=route_acme_ledger_v1_Ledger:10m rate=50r\/s;$/m);
    assert.match(upstreams, /^limit_req_zone \$ssl_client_fingerprint zone=route_acme_ledger_v1_Audit:10m rate=600r\/m;$/m);
    for (const method of ['Get', 'Tail', 'Upload', 'Sync']) {
      assert.match(location(locations, `/acme.ledger.v1.Ledger/${method}`), /limit_req zone=route_acme_ledger_v1_Ledger burst=50 nodelay;/, `${method}: a second of the rate as its burst`);
    }
    assert.match(location(locations, '/acme.ledger.v1.Audit/Check'), /limit_req zone=route_acme_ledger_v1_Audit burst=3 nodelay;/);
    assert.doesNotMatch(render(ledger).locations, /limit_req/, 'no rate_limit: the edge-wide one');
    const perMinute = render(`${ledger}    limits: { rate_limit: 600r/m }\n`).locations;
    assert.match(location(perMinute, '/acme.ledger.v1.Ledger/Get'), /burst=10 nodelay;/, '600r/m: a second of it is 10 calls');
  });

  it('stops a bad route file with the line and what is wrong', () => {
    const cases: [string, string][] = [
      [ledger.replace('    keepalive: 4\n', '    keepalive: 4\n    weight: 3\n'), 'routes.yaml:6: unknown key "weight" in upstream ledger; it takes address, port, address_setting, keepalive'],
      [ledger.replace('    port: 7000\n', ''), 'routes.yaml:3: upstream ledger has no "port"'],
      [ledger.replace('address: ledger-service', 'address: ledger-service:7000'), 'routes.yaml:3: upstream ledger\'s address must be a DNS name or an IPv4 address, without the port (got "ledger-service:7000")'],
      [ledger.replace('[acme.ledger.v1.Ledger]', '[acme.ledger.v1.Journal]'), 'routes.yaml:7: acme.ledger.v1.Journal is not a service of ledger.proto (it defines acme.ledger.v1.Ledger, acme.ledger.v1.Audit)'],
      [`${ledger}  - services: [acme.ledger.v1.Audit, acme.ledger.v1.Ledger]\n    protos: [ledger.proto]\n    upstream: ledger\n`, 'routes.yaml:10: acme.ledger.v1.Ledger has a route already (line 7); a service has one route'],
      [ledger.replace('upstream: ledger\n', 'upstream: books\n'), 'routes.yaml:9: upstream "books" is not declared under upstreams (ledger)'],
      [ledger.replace('[ledger.proto]', '[missing.proto]'), `routes.yaml:7: missing.proto is not a file (looked in ${scratch} and its node_modules)`],
      [`${ledger}    limits: { max_request_size: 4 MB }\n`, 'routes.yaml:10: max_request_size must be a size like 64k or 4m (got "4 MB")'],
      [`${ledger}    limits: { rate_limit: 100 }\n`, 'routes.yaml:10: rate_limit must be a rate like 100r/s or 600r/m (got 100)'],
      [`${ledger}    limits: { rate_burst: 10 }\n`, 'routes.yaml:10: rate_burst needs a rate_limit beside it'],
      [ledger.replace('routes:', 'route:'), 'routes.yaml:6: unknown key "route" in the route file; it takes upstreams, routes'],
      [`${ledger}  - services: [acme.ledger.v1.Audit]\n    upstream: ledger\n`, 'routes.yaml:10: a route has no "protos"'],
    ];
    for (const [yaml, expected] of cases) assert.equal(errorOf(yaml), expected);
  });

  it('renders the shipped routes.yaml: the dice service\'s streams under the stream settings, health and reflection routed', () => {
    const { locations, upstreamsTable } = renderRouteFile(join(repoRoot, 'nginx/routes.yaml'), repoRoot);
    assert.match(location(locations, '/api.DiceService/RollDie'), /grpc-proxy\.conf/);
    for (const path of ['/api.DiceService/RollDice', '/api.DiceService/RollOnDemand', '/grpc.health.v1.Health/Watch', '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo']) {
      assert.match(location(locations, path), /grpc-stream\.conf/, path);
    }
    assert.match(location(locations, '/grpc.health.v1.Health/Check'), /grpc-proxy\.conf/);
    for (const [path, kind] of [['Unary', 'grpc-proxy'], ['ServerStream', 'grpc-stream'], ['ClientStream', 'grpc-stream'], ['Bidi', 'grpc-stream']] as const) {
      assert.match(location(locations, `/echo.v1.Echo/${path}`), new RegExp(`set \\$edge_backend echo;\n.*grpc_pass grpc://echo;\n.*${kind}\\.conf`), `the Go backend's ${path}`);
    }
    assert.match(locations, /unknown service: this endpoint serves api\.DiceService, echo\.v1\.Echo, grpc\.health\.v1\.Health, /);
    assert.equal(upstreamsTable, 'dice\tserver:50051\tEDGE_UPSTREAM\t-\necho\techo:50061\tEDGE_ECHO_UPSTREAM\t-\n');
  });
});
