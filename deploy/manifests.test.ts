// The manifests in deploy/, proven as far as a machine without a cluster can: each overlay renders
// with kustomize (the same `kubectl kustomize` docs/kubernetes.md's `kubectl apply -k` runs), every object
// validates against the Kubernetes OpenAPI schema (kubernetes-models), strictly (strict-schema.ts: no unknown field) or, for OpenShift's Route,
// against the Route API's fields, and the rendered objects keep the policies a platform team checks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as certManager from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import * as trust from '@kubernetes-models/cert-manager/trust.cert-manager.io/v1alpha1';
import * as gateway from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import * as core from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { routeProblems } from './route-schema.ts';
import { strictlyCheckedKinds, strictSchemaProblems } from './strict-schema.ts';
import { settingsByService, type ServiceName } from '../scripts/configuration.ts';
import { parseRouteFile } from '../nginx/routes/route-file.ts';

const deployDir = fileURLToPath(new URL('.', import.meta.url));

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
}
type Container = {
  name: string;
  image: string;
  ports?: { name?: string; containerPort: number }[];
  env?: { name: string; value?: string }[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
};
type Probe = { grpc?: { port: number; service?: string }; tcpSocket?: { port: number | string }; httpGet?: { port: number | string; path: string } };
type KeyToPath = { key: string; path: string };
type PodSpec = {
  containers: Container[];
  securityContext?: Record<string, unknown>;
  volumes?: { name: string; secret?: { secretName: string; items?: KeyToPath[] }; projected?: { sources: { secret?: { name: string; items?: KeyToPath[] }; configMap?: { name: string; items?: KeyToPath[] } }[] }; emptyDir?: unknown }[];
  terminationGracePeriodSeconds?: number;
  automountServiceAccountToken?: boolean;
};

/** `kubectl kustomize deploy/<overlay>` (or kustomize build where kubectl is missing), parsed. */
function render(overlay: string): K8sObject[] {
  const dir = `${deployDir}${overlay}`;
  let result = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  if (result.error) result = spawnSync('kustomize', ['build', dir], { encoding: 'utf8' });
  assert.equal(result.status, 0, `kustomize could not render deploy/${overlay}: ${result.error?.message ?? result.stderr}`);
  return parseAllDocuments(result.stdout).map((document) => document.toJS() as K8sObject);
}

/** The kubernetes-models class for each kind the manifests use; an unknown kind fails the test. */
const models: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': apps.Deployment,
  'v1 Service': core.Service,
  'policy/v1 PodDisruptionBudget': policy.PodDisruptionBudget,
  'networking.k8s.io/v1 NetworkPolicy': networking.NetworkPolicy,
  'gateway.networking.k8s.io/v1 Gateway': gateway.Gateway,
  'gateway.networking.k8s.io/v1 TLSRoute': gateway.TLSRoute,
  'cert-manager.io/v1 Certificate': certManager.Certificate,
  'cert-manager.io/v1 ClusterIssuer': certManager.ClusterIssuer,
  'trust.cert-manager.io/v1alpha1 Bundle': trust.Bundle,
};

const byKind = (objects: K8sObject[], kind: string) => objects.filter((object) => object.kind === kind);
const named = (objects: K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  assert.ok(found, `${kind}/${name} is rendered`);
  return found;
};
const podSpec = (deployment: K8sObject): PodSpec => (deployment.spec as { template: { spec: PodSpec } }).template.spec;
const defaults = settingsByService();
/** The value a container's process sees: its env entry, or the default from the service's settings table. */
const env = (container: Container, name: string): string | undefined =>
  container.env?.find((entry) => entry.name === name)?.value ?? defaults[container.name as ServiceName]?.find((setting) => setting.name === name)?.defaultText;

for (const overlay of ['kubernetes', 'openshift', 'gateway-api', 'cert-manager'] as const) {
  describe(`deploy/${overlay}`, () => {
    const objects = render(overlay);

    it('renders the server, the edge, the web app and the Go backend with their Services, budgets and policies', () => {
      const names = objects.map((object) => `${object.kind}/${object.metadata.name}`).sort();
      for (const expected of ['Deployment/dice-echo', 'Service/dice-echo', 'NetworkPolicy/dice-echo', 'PodDisruptionBudget/dice-echo', 'Deployment/dice-server', 'Deployment/dice-edge', 'Deployment/dice-webapp', 'Service/dice-server', 'Service/dice-edge', 'Service/dice-webapp', 'PodDisruptionBudget/dice-server', 'PodDisruptionBudget/dice-edge', 'NetworkPolicy/dice-default-deny-ingress', 'NetworkPolicy/dice-server']) {
        assert.ok(names.includes(expected), `${expected} in ${names.join(', ')}`);
      }
      for (const object of objects) assert.equal(object.metadata.labels?.['app.kubernetes.io/part-of'], 'dice-stack', `${object.kind}/${object.metadata.name} is labelled part of the stack`);
    });

    it('validates every object against the Kubernetes OpenAPI schema (and the Route against the Route API)', () => {
      for (const object of objects) {
        const where = `${object.kind}/${object.metadata.name}`;
        if (object.apiVersion === 'route.openshift.io/v1' && object.kind === 'Route') {
          assert.deepEqual(routeProblems(object), [], `${where} follows the Route API`);
          continue;
        }
        const Model = models[`${object.apiVersion} ${object.kind}`];
        assert.ok(Model, `${where}: no schema known for ${object.apiVersion} ${object.kind}`);
        assert.doesNotThrow(() => new Model(object as never).validate(), `${where} validates`);
      }
    });

    it('has no field the API does not know, at any depth, and every field of its type (strict)', () => {
      assert.deepEqual(strictlyCheckedKinds().sort(), Object.keys(models).sort(), 'every kind validated is checked strictly too');
      assert.deepEqual(strictSchemaProblems(objects), []);
    });

    it('has every container non-root, unprivileged, read-only, with no capabilities and the default seccomp profile', () => {
      for (const deployment of byKind(objects, 'Deployment')) {
        const spec = podSpec(deployment);
        const where = deployment.metadata.name;
        assert.equal(spec.securityContext?.['runAsNonRoot'], true, `${where}: runAsNonRoot`);
        assert.deepEqual(spec.securityContext?.['seccompProfile'], { type: 'RuntimeDefault' }, `${where}: seccomp RuntimeDefault`);
        assert.equal(spec.automountServiceAccountToken, false, `${where}: no API token mounted`);
        for (const container of spec.containers) {
          assert.equal(container.securityContext?.['allowPrivilegeEscalation'], false, `${where}/${container.name}: allowPrivilegeEscalation false`);
          assert.equal(container.securityContext?.['readOnlyRootFilesystem'], true, `${where}/${container.name}: read-only root filesystem`);
          assert.deepEqual(container.securityContext?.['capabilities'], { drop: ['ALL'] }, `${where}/${container.name}: drops every capability`);
          assert.ok(container.resources?.requests?.['memory'] && container.resources.limits?.['memory'], `${where}/${container.name}: memory request and limit`);
          const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
          assert.ok(tmp && spec.volumes?.find((volume) => volume.name === tmp.name)?.emptyDir, `${where}/${container.name}: /tmp is an emptyDir`);
        }
      }
    });

    it('mounts every Secret read-only', () => {
      for (const deployment of byKind(objects, 'Deployment')) {
        const spec = podSpec(deployment);
        const secretVolumes = (spec.volumes ?? []).filter((volume) => volume.secret || volume.projected?.sources.some((source) => source.secret)).map((volume) => volume.name);
        for (const container of spec.containers) {
          for (const mount of container.volumeMounts ?? []) {
            if (secretVolumes.includes(mount.name)) assert.equal(mount.readOnly, true, `${deployment.metadata.name}/${container.name}: ${mount.mountPath} read-only`);
          }
        }
      }
      const mounted = byKind(objects, 'Deployment').flatMap((deployment) => (podSpec(deployment).volumes ?? []).flatMap((volume) => [volume.secret?.secretName, ...(volume.projected?.sources.map((source) => source.secret?.name) ?? [])]));
      assert.deepEqual([...new Set(mounted.filter(Boolean))].sort(), ['dice-client-ca', 'dice-edge-tls', 'dice-edge-token', 'dice-webapp-tls'], 'the Secrets make k8s-secrets (or cert-manager) writes');
      assert.deepEqual(byKind(objects, 'Secret'), [], 'no Secret (no key material) in the manifests');
    });

    it('probes the server with the kubelet gRPC probe on its real port, and gives the drain time to end', () => {
      const deployment = named(objects, 'Deployment', 'dice-server');
      const spec = podSpec(deployment);
      const server = spec.containers[0] as Container;
      const grpcPort = server.ports?.find((port) => port.name === 'grpc')?.containerPort;
      assert.equal(grpcPort, 50051);
      assert.equal(env(server, 'PORT'), String(grpcPort));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        assert.equal(server[probe]?.grpc?.port, grpcPort, `${probe} is a gRPC probe on ${grpcPort}`);
      }
      const graceMs = Number(env(server, 'SHUTDOWN_GRACE_MS')) + Number(env(server, 'DRAIN_DELAY_MS') ?? 0);
      assert.ok(graceMs > 0 && (spec.terminationGracePeriodSeconds ?? 30) * 1000 > graceMs, 'terminationGracePeriodSeconds above DRAIN_DELAY_MS + SHUTDOWN_GRACE_MS');
      assert.ok(Number(env(server, 'MAX_CONNECTION_IDLE_MS')) > 0 && Number(env(server, 'MAX_CONNECTION_AGE_MS')) > 0, 'connection idle and age limits set (grpc-node #2975)');
      assert.ok(((deployment.spec as { replicas: number }).replicas ?? 1) >= 2, 'two or more replicas');
      const budget = named(objects, 'PodDisruptionBudget', 'dice-server').spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
      assert.equal(budget.minAvailable, 1);
      assert.deepEqual(budget.selector.matchLabels, { 'app.kubernetes.io/name': 'dice-server' });
    });

    it('gives every probe a timeout above the 1 s default and readiness a second chance, and the drain outlasts two failed readiness probes', () => {
      for (const deployment of byKind(objects, 'Deployment')) {
        for (const container of podSpec(deployment).containers) {
          for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
            const probe = container[kind] as (Probe & { timeoutSeconds?: number; failureThreshold?: number; periodSeconds?: number }) | undefined;
            if (!probe) continue;
            assert.ok((probe.timeoutSeconds ?? 1) >= 2, `${deployment.metadata.name} ${kind}: timeoutSeconds ${probe.timeoutSeconds ?? 1}`);
            if (kind !== 'startupProbe') assert.ok((probe.failureThreshold ?? 3) >= 2, `${deployment.metadata.name} ${kind}: one failure is not enough`);
          }
        }
      }
      const server = podSpec(named(objects, 'Deployment', 'dice-server')).containers[0] as Container;
      const readiness = server.readinessProbe as Probe & { timeoutSeconds: number; failureThreshold: number; periodSeconds: number };
      const outOfEndpointsMs = ((readiness.failureThreshold - 1) * readiness.periodSeconds + readiness.timeoutSeconds) * 1000;
      assert.ok(Number(env(server, 'DRAIN_DELAY_MS')) >= outOfEndpointsMs, `DRAIN_DELAY_MS ${env(server, 'DRAIN_DELAY_MS')} covers ${outOfEndpointsMs} ms of failing readiness`);
    });

    it('spreads the replicas of every Deployment over nodes, keeps one through voluntary disruptions, and never re-pulls a tag', () => {
      for (const deployment of byKind(objects, 'Deployment')) {
        const name = deployment.metadata.name;
        const spec = podSpec(deployment) as PodSpec & { topologySpreadConstraints?: { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Record<string, string> } }[] };
        const byHost = spec.topologySpreadConstraints?.find((constraint) => constraint.topologyKey === 'kubernetes.io/hostname');
        assert.ok(byHost, `${name}: spread over nodes`);
        assert.deepEqual(byHost.labelSelector.matchLabels, { 'app.kubernetes.io/name': name }, `${name}: spreads its own pods`);
        assert.equal(byHost.whenUnsatisfiable, 'ScheduleAnyway', `${name}: still schedules on a one-node cluster`);
        const budget = byKind(objects, 'PodDisruptionBudget').find((candidate) => JSON.stringify((candidate.spec as { selector: unknown }).selector) === JSON.stringify({ matchLabels: { 'app.kubernetes.io/name': name } }));
        assert.equal((budget?.spec as { minAvailable?: number } | undefined)?.minAvailable, 1, `${name}: a PodDisruptionBudget keeps one`);
        for (const container of spec.containers) assert.equal((container as Container & { imagePullPolicy?: string }).imagePullPolicy, 'IfNotPresent', `${name}/${container.name}: a loaded image is used, a tag never re-pulled`);
      }
    });

    it('ends a quiet stream at the server (with a status) before the edge would reset it', () => {
      const server = podSpec(named(objects, 'Deployment', 'dice-server')).containers[0] as Container;
      const edge = podSpec(named(objects, 'Deployment', 'dice-edge')).containers[0] as Container;
      const edgeIdle = /^(\d+)s$/.exec(env(edge, 'EDGE_STREAM_IDLE_TIMEOUT') ?? '');
      assert.ok(edgeIdle, 'EDGE_STREAM_IDLE_TIMEOUT set in seconds');
      assert.ok(Number(env(server, 'STREAM_IDLE_TIMEOUT_MS')) < Number(edgeIdle[1]) * 1000, 'STREAM_IDLE_TIMEOUT_MS below EDGE_STREAM_IDLE_TIMEOUT');
    });

    it('serves the server through a headless Service whose FQDN is the edge upstream', () => {
      const service = named(objects, 'Service', 'dice-server').spec as { clusterIP: string; selector: Record<string, string>; ports: { port: number }[] };
      assert.equal(service.clusterIP, 'None', 'headless: nginx resolves every pod');
      assert.deepEqual(service.selector, { 'app.kubernetes.io/name': 'dice-server' });
      const edge = podSpec(named(objects, 'Deployment', 'dice-edge')).containers[0] as Container;
      assert.equal(env(edge, 'EDGE_UPSTREAM'), `dice-server.$(POD_NAMESPACE).svc.cluster.local:${service.ports[0]?.port}`);
      assert.ok(edge.env?.some((entry) => entry.name === 'POD_NAMESPACE'), 'POD_NAMESPACE defined for the upstream name');
    });

    it('names every upstream of nginx/routes.yaml by a cluster FQDN (nginx\'s resolver uses no search domains), through its address setting', () => {
      const routes = parseRouteFile(readFileSync(fileURLToPath(new URL('../nginx/routes.yaml', import.meta.url)), 'utf8'), 'nginx/routes.yaml');
      const edge = podSpec(named(objects, 'Deployment', 'dice-edge')).containers[0] as Container;
      for (const upstream of routes.upstreams) {
        assert.ok(upstream.addressSetting, `upstream ${upstream.name} has an address_setting for the cluster to set`);
        const port = upstream.address.split(':')[1];
        assert.match(env(edge, upstream.addressSetting) ?? '', new RegExp(`^[a-z0-9-]+\\.\\$\\(POD_NAMESPACE\\)\\.svc\\.cluster\\.local:${port}$`), `${upstream.addressSetting} on the edge`);
      }
    });

    it('admits to the server only the edge on 50051, and to metrics ports only the labelled scraper', () => {
      const deny = named(objects, 'NetworkPolicy', 'dice-default-deny-ingress').spec as { podSelector: object; policyTypes: string[]; ingress?: unknown };
      assert.deepEqual(deny, { podSelector: {}, policyTypes: ['Ingress'] }, 'every pod denies ingress by default');
      const server = named(objects, 'NetworkPolicy', 'dice-server').spec as { podSelector: { matchLabels: Record<string, string> }; ingress: { from: { podSelector?: { matchLabels: Record<string, string> }; namespaceSelector?: object }[]; ports: { port: number }[] }[] };
      assert.deepEqual(server.podSelector.matchLabels, { 'app.kubernetes.io/name': 'dice-server' });
      const grpcRule = server.ingress.filter((rule) => rule.ports.some((port) => port.port === 50051));
      assert.equal(grpcRule.length, 1);
      assert.deepEqual(grpcRule[0]?.from, [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'dice-edge' } } }], 'only the edge pods');
      for (const policyObject of byKind(objects, 'NetworkPolicy')) {
        for (const rule of (policyObject.spec as { ingress?: { from?: { podSelector?: { matchLabels: Record<string, string> } }[]; ports: { port: number }[] }[] }).ingress ?? []) {
          if (rule.ports.some((port) => port.port === 9464)) {
            assert.deepEqual(rule.from?.map((peer) => peer.podSelector?.matchLabels), [{ 'dice-stack/metrics-scraper': 'true' }], `${policyObject.metadata.name}: metrics only for the scraper label`);
          }
        }
      }
    });

    if (overlay === 'cert-manager') {
      it('has cert-manager issue the two leaves into the Secrets and keys the Deployments mount, short-lived, with a new key each time', () => {
        const certificates = byKind(objects, 'Certificate').map((object) => object.spec as { secretName: string; issuerRef: { kind: string; name: string }; duration: string; renewBefore: string; usages: string[]; privateKey: { rotationPolicy: string }; dnsNames?: string[]; commonName: string });
        const bySecret = new Map(certificates.map((certificate) => [certificate.secretName, certificate]));
        assert.deepEqual([...bySecret.keys()].sort(), ['dice-edge-tls', 'dice-webapp-tls']);
        // What each Deployment takes from those Secrets: only the keys a cert-manager Secret has.
        const fromCertManager = byKind(objects, 'Deployment').flatMap((deployment) => (podSpec(deployment).volumes ?? []).flatMap((volume) => (volume.projected?.sources ?? []).filter((source) => source.secret && bySecret.has(source.secret.name)).map((source) => [deployment.metadata.name, source.secret?.name, source.secret?.items?.map((item) => item.key)] as const)));
        assert.deepEqual(fromCertManager, [['dice-edge', 'dice-edge-tls', ['tls.crt', 'tls.key']], ['dice-webapp', 'dice-webapp-tls', ['tls.crt', 'tls.key']]], 'each takes the pair, never the Secret\'s ca.crt (the issuer, not the CA to trust the peer by)');
        const edge = bySecret.get('dice-edge-tls');
        const webapp = bySecret.get('dice-webapp-tls');
        assert.deepEqual([edge?.issuerRef.name, webapp?.issuerRef.name], ['dice-server-ca', 'dice-client-ca'], 'the edge from the server CA, the web app from the client CA');
        assert.ok(edge?.usages.includes('server auth') && !edge.usages.includes('client auth'));
        assert.ok(webapp?.usages.includes('client auth') && !webapp.usages.includes('server auth'));
        assert.equal(webapp?.commonName, 'dice-webapp', 'the identity ACCESS_POLICY names');
        const webappTarget = env(podSpec(named(objects, 'Deployment', 'dice-webapp')).containers[0] as Container, 'DICE_TARGET') ?? '';
        assert.ok(edge?.dnsNames?.includes(webappTarget.split(':')[0] ?? ''), `the edge's certificate names ${webappTarget}, the address the web app dials`);
        for (const certificate of certificates) {
          assert.equal(certificate.privateKey.rotationPolicy, 'Always', `${certificate.secretName}: a new key at every renewal`);
          const hours = (text: string): number => Number(/^(\d+)h$/.exec(text)?.[1] ?? NaN);
          assert.ok(hours(certificate.duration) <= 24 && hours(certificate.renewBefore) * 3 === hours(certificate.duration), `${certificate.secretName}: ${certificate.duration}, renewed a third before the end`);
        }
      });

      it('trusts each peer by a trust-manager bundle of the CA that issues it, and keeps the CRL the edge checks', () => {
        const issuers = new Map(byKind(objects, 'ClusterIssuer').map((object) => [object.metadata.name, (object.spec as { ca: { secretName: string } }).ca.secretName]));
        assert.deepEqual(Object.fromEntries(issuers), { 'dice-server-ca': 'dice-server-ca-keypair', 'dice-client-ca': 'dice-client-ca-keypair' });
        const bundles = new Map(byKind(objects, 'Bundle').map((object) => [object.metadata.name, object.spec as { sources: { secret?: { name: string; key: string } }[]; target: { configMap: { key: string } } }]));
        const sourceOf = (bundle: string) => bundles.get(bundle)?.sources.map((source) => `${source.secret?.name}/${source.secret?.key}`);
        assert.deepEqual(sourceOf('dice-server-trust'), ['dice-server-ca-keypair/tls.crt'], 'the web app trusts the CA that issues the edge\'s certificate');
        assert.deepEqual(sourceOf('dice-client-trust'), ['dice-client-ca-keypair/tls.crt'], 'the edge trusts the CA that issues client certificates');
        const mountedFrom = (deployment: string) => (podSpec(named(objects, 'Deployment', deployment)).volumes ?? []).flatMap((volume) => volume.projected?.sources ?? []).flatMap((source) => [...(source.configMap?.items ?? []).map((item) => `configMap ${source.configMap?.name}/${item.key} -> ${item.path}`), ...(source.secret?.items ?? []).map((item) => `secret ${source.secret?.name}/${item.key} -> ${item.path}`)]);
        assert.ok(mountedFrom('dice-webapp').includes('configMap dice-server-trust/ca.crt -> ca.crt'));
        assert.ok(mountedFrom('dice-edge').includes('configMap dice-client-trust/ca.crt -> client-ca.pem'));
        assert.ok(mountedFrom('dice-edge').includes('secret dice-client-ca/crl.pem -> crl.pem'), 'cert-manager publishes no CRL: the edge keeps the one make k8s-secrets writes');
        for (const bundle of bundles.values()) assert.equal(bundle.target.configMap.key, 'ca.crt');
      });
    }

    if (overlay === 'kubernetes') {
      it('exposes the edge through a LoadBalancer on 9443 that passes TCP through', () => {
        const service = named(objects, 'Service', 'dice-edge').spec as { type: string; ports: { port: number }[] };
        assert.equal(service.type, 'LoadBalancer');
        assert.deepEqual(service.ports.map((port) => port.port), [9443]);
      });
    } else if (overlay === 'gateway-api') {
      it('reaches the edge through a Gateway listener that passes TLS through, and a TLSRoute to its TLS port (mTLS ends at nginx)', () => {
        type Listener = { name: string; protocol: string; port: number; hostname: string; tls: { mode: string }; allowedRoutes: { namespaces: { from: string }; kinds: { kind: string }[] } };
        const gatewaySpec = named(objects, 'Gateway', 'dice').spec as { listeners: Listener[] };
        assert.equal(gatewaySpec.listeners.length, 1, 'one listener, nothing else on the Gateway');
        const [listener] = gatewaySpec.listeners as [Listener];
        assert.deepEqual([listener.protocol, listener.tls.mode], ['TLS', 'Passthrough'], 'the Gateway never opens the TLS session');
        assert.deepEqual(listener.allowedRoutes.kinds.map((kind) => kind.kind), ['TLSRoute']);
        assert.equal(listener.allowedRoutes.namespaces.from, 'Same');
        const route = named(objects, 'TLSRoute', 'dice-edge').spec as { parentRefs: { name: string; sectionName: string }[]; hostnames: string[]; rules: { backendRefs: { kind: string; name: string; port: number }[] }[] };
        assert.deepEqual(route.parentRefs.map((ref) => [ref.name, ref.sectionName]), [['dice', listener.name]]);
        assert.deepEqual(route.hostnames, [listener.hostname], 'the route answers the listener\'s host');
        const edge = named(objects, 'Service', 'dice-edge').spec as { type?: string; ports: { name: string; port: number }[] };
        assert.deepEqual(route.rules.flatMap((rule) => rule.backendRefs.map((ref) => [ref.kind, ref.name, ref.port])), [['Service', 'dice-edge', edge.ports.find((port) => port.name === 'grpc-tls')?.port]]);
        assert.equal(edge.type ?? 'ClusterIP', 'ClusterIP', 'the Gateway is the only way in from outside');
      });
      it('runs the pods as the fixed unprivileged ids, as the kubernetes overlay does', () => {
        for (const deployment of byKind(objects, 'Deployment')) assert.equal(podSpec(deployment).securityContext?.['fsGroup'], 10001, deployment.metadata.name);
      });
    } else if (overlay === 'openshift') {
      it('sets no runAsUser or fsGroup anywhere: restricted-v2 picks them', () => {
        const text = JSON.stringify(objects);
        assert.doesNotMatch(text, /runAsUser|runAsGroup|fsGroup/);
      });
      it('reaches the edge through a passthrough Route (mTLS ends at nginx) and the page through an edge Route', () => {
        const edgeRoute = named(objects, 'Route', 'dice-edge').spec as { to: { name: string }; tls: { termination: string } };
        assert.equal(edgeRoute.tls.termination, 'passthrough');
        assert.equal(edgeRoute.to.name, 'dice-edge');
        const pageRoute = named(objects, 'Route', 'dice-webapp').spec as { to: { name: string }; tls: { termination: string } };
        assert.equal(pageRoute.tls.termination, 'edge');
        assert.equal(pageRoute.to.name, 'dice-webapp');
      });
    }
  });
}

describe('deploy/components/tracing', () => {
  it('turns tracing on for the server and the web app only, by the OpenTelemetry variable, in any overlay; off without it', () => {
    // An overlay of the test's own beside the others (kustomize takes no absolute paths), removed after.
    const dir = mkdtempSync(`${deployDir}.tracing-`);
    try {
      writeFileSync(`${dir}/kustomization.yaml`, 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../kubernetes]\ncomponents: [../components/tracing]\n');
      const objects = render(dir.slice(deployDir.length));
      const endpoints = byKind(objects, 'Deployment').map((deployment) => [deployment.metadata.name, env(podSpec(deployment).containers[0] as Container, 'OTEL_EXPORTER_OTLP_ENDPOINT')]);
      // The edge logs trace ids and the Go backend (backends/go) has no OpenTelemetry SDK: neither exports.
      assert.deepEqual(Object.fromEntries(endpoints), { 'dice-echo': undefined, 'dice-edge': undefined, 'dice-server': 'http://otel-collector.observability.svc.cluster.local:4317', 'dice-webapp': 'http://otel-collector.observability.svc.cluster.local:4317' });
      assert.deepEqual(strictSchemaProblems(objects), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    for (const overlay of ['kubernetes', 'openshift', 'gateway-api', 'cert-manager']) {
      for (const deployment of byKind(render(overlay), 'Deployment')) assert.equal(env(podSpec(deployment).containers[0] as Container, 'OTEL_EXPORTER_OTLP_ENDPOINT') ?? '', '', `${overlay}: ${deployment.metadata.name} traces nothing by default`);
    }
  });
});

describe('docs/kubernetes.md, docs/openshift.md and docs/gateway-api.md', () => {
  it('apply exactly the overlays these tests render, after make images and make k8s-secrets', () => {
    const recipes = ['kubernetes', 'openshift', 'gateway-api'].map((page) => readFileSync(new URL(`../docs/${page}.md`, import.meta.url), 'utf8'));
    const applied = recipes.flatMap((recipe) => [...recipe.matchAll(/(?:kubectl|oc) apply (?:-n \S+ )?-k ([\w/.-]+)/g)].map((match) => match[1]));
    assert.deepEqual([...new Set(applied)].sort(), ['deploy/cert-manager', 'deploy/gateway-api', 'deploy/kubernetes', 'deploy/openshift']);
    for (const recipe of recipes) assert.ok(recipe.includes('make k8s-secrets'), 'the recipe shows make k8s-secrets');
    for (const recipe of recipes.slice(0, 2)) assert.ok(recipe.includes('make images'), 'the recipe shows make images');
  });
});

describe('the strict schema check', () => {
  it('refuses a misspelled field, a field at the wrong level and a value of the wrong type, naming the object', () => {
    const objects = render('kubernetes');
    const server = structuredClone(named(objects, 'Deployment', 'dice-server'));
    const container = podSpec(server).containers[0] as Container & Record<string, unknown>;
    (container.securityContext as Record<string, unknown>)['readOnlyRootFilesytem'] = true;
    const edge = structuredClone(named(objects, 'Service', 'dice-edge'));
    (edge.spec as Record<string, unknown>)['replicas'] = 2;
    const budget = structuredClone(named(objects, 'PodDisruptionBudget', 'dice-server'));
    (budget.spec as Record<string, unknown>)['minAvailable'] = true;
    const problems = strictSchemaProblems([server, edge, budget]);
    assert.equal(problems.length, 3, problems.join('\n'));
    assert.match(problems[0] ?? '', /^Deployment\/dice-server: .*'readOnlyRootFilesytem' does not exist/);
    assert.match(problems[1] ?? '', /^Service\/dice-edge: .*'replicas' does not exist/);
    assert.match(problems[2] ?? '', /^PodDisruptionBudget\/dice-server: Type 'true' is not assignable to type 'IIntOrString \| undefined'/);
  });
});
