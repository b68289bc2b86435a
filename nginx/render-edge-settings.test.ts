// nginx/render-edge-settings.sh, the nginx image's entrypoint, run on the host with sh.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderRouteFile } from './routes/edge-routes.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

const scratch = mkdtempSync(join(tmpdir(), 'dice-edge-settings-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const token = 'c0ffee'.repeat(8);
const tokenFile = join(scratch, 'edge-token');
writeFileSync(tokenFile, `# the edge sends the first\n${token}\n${'d'.repeat(64)}\n`);
// The upstreams the image is built with (routes.yaml rendered, as the image build does).
const rendered = renderRouteFile(join(repoRoot, 'nginx/routes.yaml'), repoRoot);
const upstreamsFile = join(scratch, 'upstreams.tsv');
writeFileSync(upstreamsFile, rendered.upstreamsTable);
const methodsFile = join(scratch, 'methods.tsv');
writeFileSync(methodsFile, rendered.methodsTable);

/** The files the script renders, in the order nginx.conf includes them at the http level. */
const httpLevelFiles = ['client-connections.conf', 'resolver.conf', 'limits.conf', 'timeouts.conf'];

function render(env: Record<string, string>) {
  // A directory per call: the script writes one file per concern into it.
  const dir = mkdtempSync(join(scratch, 'render-'));
  const result = spawnSync('sh', [join(repoRoot, 'nginx/render-edge-settings.sh'), 'echo', 'ran'], { env: { PATH: process.env['PATH'], EDGE_SETTINGS_DIR: dir, EDGE_TOKEN_FILE: tokenFile, EDGE_UPSTREAMS_FILE: upstreamsFile, EDGE_METHODS_FILE: methodsFile, ...env }, encoding: 'utf8' });
  const sibling = (name: string): string => readFileSync(join(dir, name), 'utf8');
  return { ...result, conf: () => httpLevelFiles.map(sibling).join(''), sibling, files: () => readdirSync(dir).sort() };
}

describe('render-edge-settings.sh', () => {
  it('renders the defaults, then runs the command', () => {
    const result = render({});
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, 'ran\n');
    assert.deepEqual(result.files(), ['access-log.conf', 'access-policy.conf', 'client-connections.conf', 'client-verify.conf', 'edge-token.conf', 'limits.conf', 'main-settings.conf', 'resolver.conf', 'stream-size.conf', 'streams.conf', 'timeouts.conf', 'upstream-dice.conf', 'upstream-echo.conf']);
    const conf = result.conf();
    assert.match(conf, /^limit_req_zone \$ssl_client_fingerprint zone=per_client_certificate:10m rate=5000r\/s;$/m);
    assert.match(conf, /^limit_req zone=per_client_certificate burst=5000 nodelay;$/m);
    assert.match(conf, /^client_max_body_size 64k;$/m);
    assert.match(conf, /^grpc_read_timeout 30s;$/m);
    assert.match(conf, /^keepalive_requests 100000;$/m);
    assert.match(conf, /^limit_req_status 429;$/m);
    assert.match(result.sibling('limits.conf'), /^client_max_body_size 64k;$/m);
    assert.match(result.sibling('timeouts.conf'), /^grpc_read_timeout 30s;$/m);
    assert.match(result.sibling('main-settings.conf'), /^worker_processes auto;$/m);
    assert.match(result.sibling('upstream-dice.conf'), /^server server:50051 resolve;$/m);
    assert.match(result.sibling('main-settings.conf'), /^error_log stderr warn;$/m);
    assert.match(result.sibling('upstream-dice.conf'), /^keepalive 32;$/m);
    assert.match(result.sibling('upstream-dice.conf'), /^keepalive_requests 100000;$/m);
    const streams = result.sibling('streams.conf');
    for (const directive of ['grpc_read_timeout', 'grpc_send_timeout', 'client_body_timeout']) assert.match(streams, new RegExp(`^${directive} 60s;$`, 'm'));
    assert.match(streams, /^include .*\/stream-size\.conf;$/m);
    assert.match(result.sibling('stream-size.conf'), /^client_max_body_size 0;$/m);
    assert.match(result.sibling('access-log.conf'), /^access_log \/dev\/stdout grpc_json buffer=64k flush=1s;$/m);
    assert.match(result.sibling('client-verify.conf'), /^ssl_verify_depth 2;$/m);
    assert.match(render({ EDGE_CLIENT_VERIFY_DEPTH: '1' }).sibling('client-verify.conf'), /^ssl_verify_depth 1;$/m);
  });

  it('writes each access-log line at once with EDGE_ACCESS_LOG=unbuffered, and none with off', () => {
    const unbuffered = render({ EDGE_ACCESS_LOG: 'unbuffered' });
    assert.equal(unbuffered.status, 0, unbuffered.stderr);
    assert.match(unbuffered.sibling('access-log.conf'), /^access_log \/dev\/stdout grpc_json;$/m);
    assert.match(render({ EDGE_ACCESS_LOG: 'off' }).sibling('access-log.conf'), /^access_log off;$/m);
  });

  it('gives streaming methods their own idle timeout and total size (EDGE_STREAM_IDLE_TIMEOUT, EDGE_MAX_STREAM_SIZE), apart from unary calls', () => {
    const result = render({ EDGE_STREAM_IDLE_TIMEOUT: '3s', EDGE_MAX_STREAM_SIZE: '256m', EDGE_UPSTREAM_TIMEOUT: '5s' });
    assert.equal(result.status, 0, result.stderr);
    const streams = result.sibling('streams.conf');
    assert.match(streams, /^grpc_read_timeout 3s;$/m);
    assert.match(streams, /^client_body_timeout 3s;$/m);
    assert.match(result.sibling('stream-size.conf'), /^client_max_body_size 256m;$/m);
    assert.match(result.sibling('timeouts.conf'), /^grpc_read_timeout 5s;$/m);
    assert.doesNotMatch(result.conf(), /3s|256m/, 'the http-level settings are not the stream ones');
  });

  it('sets nginx workers, upstream keepalive (0 turns it off) and calls per connection', () => {
    const result = render({ EDGE_WORKER_PROCESSES: '1', EDGE_UPSTREAM_KEEPALIVE: '0', EDGE_KEEPALIVE_REQUESTS: '1000', EDGE_ERROR_LOG_LEVEL: 'info' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.sibling('main-settings.conf'), /^worker_processes 1;$/m);
    assert.match(result.sibling('main-settings.conf'), /^error_log stderr info;$/m);
    assert.doesNotMatch(result.sibling('upstream-dice.conf'), /^keepalive /m);
    assert.match(result.sibling('upstream-dice.conf'), /^keepalive_requests 1000;$/m);
    assert.match(result.conf(), /^keepalive_requests 1000;$/m);
  });

  it('renders a file per upstream of the route table: its address, or its address setting\'s, and its own keepalive', () => {
    const table = join(scratch, 'two-upstreams.tsv');
    writeFileSync(table, 'dice\tserver:50051\tEDGE_UPSTREAM\t-\ngo\tgo-backend:50052\tEDGE_GO_UPSTREAM\t8\n');
    const result = render({ EDGE_UPSTREAMS_FILE: table, EDGE_GO_UPSTREAM: 'go.dice.svc.cluster.local:50052' });
    assert.equal(result.status, 0, result.stderr);
    assert.ok(result.files().includes('upstream-dice.conf') && result.files().includes('upstream-go.conf'), result.files().join(' '));
    assert.match(result.sibling('upstream-dice.conf'), /^server server:50051 resolve;$/m);
    assert.match(result.sibling('upstream-dice.conf'), /^keepalive 32;$/m, 'EDGE_UPSTREAM_KEEPALIVE where the route file says none');
    assert.match(result.sibling('upstream-go.conf'), /^server go\.dice\.svc\.cluster\.local:50052 resolve;$/m);
    assert.match(result.sibling('upstream-go.conf'), /^keepalive 8;$/m);
    const bad = render({ EDGE_UPSTREAMS_FILE: table, EDGE_GO_UPSTREAM: 'go-backend' });
    assert.equal(bad.status, 64);
    assert.equal(bad.stderr, "nginx: configuration error: EDGE_GO_UPSTREAM must be a DNS name and port, like server:50051 (got 'go-backend')\n");
    const missing = render({ EDGE_UPSTREAMS_FILE: join(scratch, 'nothing.tsv') });
    assert.equal(missing.status, 64);
    assert.match(missing.stderr, /EDGE_UPSTREAMS_FILE must be the upstreams rendered from routes\.yaml/);
  });

  it('takes the EDGE_* values, and EDGE_RATE_LIMIT=off drops the limit', () => {
    const conf = render({ EDGE_RATE_LIMIT: 'off', EDGE_MAX_REQUEST_SIZE: '4m', EDGE_UPSTREAM_TIMEOUT: '500ms' }).conf();
    assert.doesNotMatch(conf, /limit_req_zone|limit_req zone/);
    assert.match(conf, /^client_max_body_size 4m;$/m);
    assert.match(conf, /^grpc_send_timeout 500ms;$/m);
  });

  it('takes the resolver from resolv.conf (Docker or a pod alike), or from EDGE_RESOLVER, and the upstream from EDGE_UPSTREAM', () => {
    const resolvConf = join(scratch, 'resolv.conf');
    writeFileSync(resolvConf, 'search dice.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\nnameserver fd00::10\noptions ndots:5\n');
    const result = render({ EDGE_RESOLV_CONF: resolvConf, EDGE_UPSTREAM: 'dice-server.dice.svc.cluster.local:50051' });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.sibling('resolver.conf'), /^resolver 10\.96\.0\.10 \[fd00::10\] valid=5s ipv6=off;$/m);
    assert.match(result.sibling('upstream-dice.conf'), /^server dice-server\.dice\.svc\.cluster\.local:50051 resolve;$/m);
    assert.match(render({ EDGE_RESOLV_CONF: resolvConf, EDGE_RESOLVER: '127.0.0.11' }).sibling('resolver.conf'), /^resolver 127\.0\.0\.11 valid=5s ipv6=off;$/m);
    // An IPv6-only cluster: its DNS is IPv6, and so are the server pods' addresses.
    const ipv6Only = join(scratch, 'resolv6.conf');
    writeFileSync(ipv6Only, 'nameserver fd00:10:96::a\n');
    assert.match(render({ EDGE_RESOLV_CONF: ipv6Only }).sibling('resolver.conf'), /^resolver \[fd00:10:96::a\] valid=5s ipv4=off;$/m);
    assert.match(render({ EDGE_RESOLV_CONF: ipv6Only, EDGE_IP_FAMILY: 'dual' }).sibling('resolver.conf'), /^resolver \[fd00:10:96::a\] valid=5s;$/m);
    assert.match(render({ EDGE_RESOLV_CONF: resolvConf, EDGE_IP_FAMILY: 'ipv6' }).sibling('resolver.conf'), /^resolver 10\.96\.0\.10 \[fd00::10\] valid=5s ipv4=off;$/m);
    const none = render({ EDGE_RESOLV_CONF: join(scratch, 'missing.conf') });
    assert.equal(none.status, 64);
    assert.match(none.stderr, /^nginx: configuration error: EDGE_RESOLVER is not set and .* names no nameserver/);
  });

  for (const [name, value] of [['EDGE_RATE_LIMIT', '100'], ['EDGE_RATE_BURST', '-1'], ['EDGE_MAX_REQUEST_SIZE', '1g'], ['EDGE_UPSTREAM_TIMEOUT', '30'], ['EDGE_STREAM_IDLE_TIMEOUT', '0s'], ['EDGE_MAX_STREAM_SIZE', 'lots'], ['EDGE_ACCESS_LOG', 'verbose'], ['EDGE_WORKER_PROCESSES', 'all'], ['EDGE_UPSTREAM_KEEPALIVE', 'on'], ['EDGE_KEEPALIVE_REQUESTS', '0'], ['EDGE_ERROR_LOG_LEVEL', 'verbose'], ['EDGE_UPSTREAM', 'server'], ['EDGE_RESOLVER', 'dns.example'], ['EDGE_CERT_CHECK_INTERVAL', '2s'], ['EDGE_CERT_FILES', 'server.pem'], ['EDGE_RESOLV_CONF', 'resolv.conf'], ['EDGE_IP_FAMILY', 'ipv5'], ['EDGE_CLIENT_VERIFY_DEPTH', '0']] as const) {
    it(`stops on ${name}=${value} with one line naming it, before running the command`, () => {
      const result = render({ [name]: value });
      assert.equal(result.status, 64);
      assert.equal(result.stdout, '');
      const lines = result.stderr.trim().split('\n');
      assert.equal(lines.length, 1);
      assert.match(lines[0] ?? '', new RegExp(`^nginx: configuration error: ${name} must be .* \\(got '${value}'\\)$`));
    });
  }

  it("renders the edge token file's first token as the header the edge adds to every call", () => {
    const result = render({});
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.sibling('edge-token.conf'), new RegExp(`^grpc_set_header x-dice-edge-token "${token}";$`, 'm'));
  });

  for (const [problem, content] of [['names no token', '# empty\n\n'], ['is not 32 to 512', 'short\n'], ['is not 32 to 512', 'has "quotes" and spaces in it, far more than thirty-two\n']] as const) {
    it(`stops when the edge token file ${problem} (${JSON.stringify(content)}), with one line naming EDGE_TOKEN_FILE`, () => {
      const file = join(mkdtempSync(join(scratch, 'token-')), 'edge-token');
      writeFileSync(file, content);
      const result = render({ EDGE_TOKEN_FILE: file });
      assert.equal(result.status, 64);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^nginx: configuration error: EDGE_TOKEN_FILE .*${problem}.*\n$`));
    });
  }

  it('renders EDGE_ACCESS_POLICY into identities by method path: a method, a service, "*"; none but the map lookup by default', () => {
    assert.equal(render({}).sibling('access-policy.conf').split('\n').filter((line) => !line.startsWith('#')).join('\n'), 'map $uri $edge_allowed_identities {\n    default "";\n}\n');
    const result = render({ EDGE_ACCESS_POLICY: 'api.DiceService/RollDie=cn:dice-webapp,uri:spiffe://dice.example/webapp ; api.DiceService/*=dns:alice.dice.internal;grpc.health.v1.Health/*=*' });
    assert.equal(result.status, 0, result.stderr);
    const map = result.sibling('access-policy.conf');
    // No "*" rule: a method none of the rules names is refused (the server's ACCESS_POLICY does the same).
    assert.match(map, /^ {4}default "-";$/m);
    assert.match(map, /^ {4}\/api\.DiceService\/RollDie " cn:dice-webapp uri:spiffe:\/\/dice\.example\/webapp ";$/m);
    assert.match(map, /^ {4}~\^\/api\[\.\]DiceService\/ " dns:alice\.dice\.internal ";$/m);
    assert.match(map, /^ {4}~\^\/grpc\[\.\]health\[\.\]v1\[\.\]Health\/ "";$/m);
    assert.match(render({ EDGE_ACCESS_POLICY: '*=cn:ops' }).sibling('access-policy.conf'), /^ {4}default " cn:ops ";$/m);
  });

  for (const [policy, sentence] of [
    ['api.DiceService/Cheat=cn:alice', 'names api.DiceService/Cheat, which is not a method of api.DiceService'],
    ['shop.Cart/*=cn:alice', 'names shop.Cart, which this edge does not route (routes.yaml)'],
    ['api.DiceService/*=cn:a;api.DiceService/*=cn:b', 'names api.DiceService/* twice: list all its identities in one rule'],
    ['api.DiceService/RollDie=alice', "must be rules"],
    ['api.DiceService/RollDie=uri:spiffe://x/"; return 200 "', "must be rules"],
  ] as const) {
    it(`stops on EDGE_ACCESS_POLICY=${policy} with one line naming it`, () => {
      const result = render({ EDGE_ACCESS_POLICY: policy });
      assert.equal(result.status, 64);
      assert.equal(result.stdout, '');
      assert.match(result.stderr, new RegExp(`^nginx: configuration error: EDGE_ACCESS_POLICY ${sentence.replace(/[.*()/]/g, '\\$&')}.*\n$`));
    });
  }

  it('refuses a value of several lines, which a line-by-line check would let through', () => {
    const result = render({ EDGE_UPSTREAM_TIMEOUT: '30s\nproxy_pass http://elsewhere' });
    assert.equal(result.status, 64);
    assert.equal(result.stderr, 'nginx: configuration error: EDGE_UPSTREAM_TIMEOUT must be a duration like 30s or 500ms (got a value of several lines)\n');
  });
});
