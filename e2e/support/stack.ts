// The one driver for the real stack, used by the e2e suite, make soak and make bench: Testcontainers'
// compose environment over docker-compose.yml (plus any override files), under a project name of its
// own, with addresses from its getters and one teardown.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment, type StartedTestContainer } from 'testcontainers';
import { containerLogs, dockerWithEnv, type LogOptions } from './docker.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const certsDir = process.env['CERTS_DIR'] ?? `${repoRoot}certs`;

const services = ['server', 'echo', 'nginx', 'webapp', 'renewer'] as const;
export type Service = (typeof services)[number];
const isService = (target: string): target is Service => (services as readonly string[]).includes(target);

export interface Stack {
  /** The compose project name, for `docker compose` and make targets (COMPOSE_PROJECT_NAME). */
  projectName: string;
  webappUrl: string;
  /** host:port of nginx's published gRPC port. */
  edgeAddress: string;
  /** The first container of a service (server-1 when there are several replicas). */
  container(service: Service): StartedTestContainer;
  /** Every container of a service, by id. */
  containers(service: Service): Promise<string[]>;
  /** host:port where a container port of the first container of a service is published (the host IP Docker bound it to). */
  address(service: Service, port: number): string;
  /** Runs `docker compose` for this project with the variables the stack was started with. */
  compose(...args: string[]): Promise<string>;
  /** Runs n server replicas (nginx finds them by DNS), waiting until every one is healthy. */
  scale(replicas: number): Promise<void>;
  /** The log of a service's first container, or of a container by id; since: from then on. */
  logs(target: Service | string, options?: LogOptions): Promise<string>;
  /**
   * Brings the running stack to other compose variables (containers whose settings changed are
   * recreated) and resolves with the stack as it now is: published ports may have changed.
   */
  update(env: Record<string, string>): Promise<Stack>;
  down(): Promise<void>;
}

export interface StackOptions {
  /** Extra compose variables, e.g. EDGE_RATE_LIMIT, ACCESS_POLICY, CERTS_DIR. */
  env?: Record<string, string>;
  /** Compose files laid over docker-compose.yml (paths relative to the repository). */
  overrides?: string[];
  /** The compose project name; a fresh dice-e2e-<random> by default. */
  projectName?: string;
}

/**
 * Builds the images and starts docker-compose.yml under its own project name, with the published
 * ports on random loopback ports so a running `make up` stack does not collide. Waits on the compose
 * healthchecks. down() removes containers and networks; the images keep their names
 * ($REGISTRY/service:$TAG, as `make images` builds them) for the next build to reuse. A failed
 * start takes the stack down before it throws; otherwise call down() in an after() hook (Ryuk is not
 * there to clean up).
 */
export async function startStack({ env = {}, overrides = [], projectName = `dice-e2e-${randomBytes(4).toString('hex')}` }: StackOptions = {}): Promise<Stack> {
  const files = ['docker-compose.yml', ...overrides];
  const project = ['--project-directory', repoRoot, '--project-name', projectName, ...files.flatMap((file) => ['--file', `${repoRoot}${file}`])];

  const up = async (composeEnv: Record<string, string>, build: boolean): Promise<Stack> => {
    const down = async (): Promise<void> => {
      await dockerWithEnv(composeEnv, 'compose', ...project, 'down', '--volumes', '--remove-orphans', '--timeout', '5');
    };
    let environment: StartedDockerComposeEnvironment;
    try {
      let compose = new DockerComposeEnvironment(repoRoot, files).withProjectName(projectName).withEnvironment(composeEnv).withDefaultWaitStrategy(Wait.forHealthCheck()).withStartupTimeout(180_000);
      if (build) compose = compose.withBuild();
      environment = await compose.up();
    } catch (error) {
      await down().catch(() => {});
      throw error;
    }
    const container = (service: Service): StartedTestContainer => environment.getContainer(`${service}-1`);
    const published = new Map<Service, PortBindings>();
    for (const service of ['server', 'echo', 'nginx', 'webapp'] as const) {
      published.set(service, JSON.parse(await dockerWithEnv(composeEnv, 'inspect', '--format', '{{json .NetworkSettings.Ports}}', container(service).getId())) as PortBindings);
    }
    const address = (service: Service, port: number): string => publishedAddress(container(service), published.get(service), port);
    const compose = (...args: string[]): Promise<string> => dockerWithEnv(composeEnv, 'compose', ...project, ...args);
    return {
      projectName,
      webappUrl: `http://${address('webapp', 8000)}`,
      edgeAddress: address('nginx', 9443),
      container,
      containers: async (service) => (await compose('ps', '--quiet', service)).trim().split('\n').filter(Boolean),
      address,
      compose,
      scale: async (replicas) => {
        await compose('up', '--detach', '--wait', '--no-deps', '--no-recreate', '--scale', `server=${replicas}`, 'server');
      },
      logs: (target, options) => containerLogs(isService(target) ? container(target).getId() : target, options),
      update: (changes) => up({ ...composeEnv, ...changes }, false),
      down,
    };
  };
  return up({ WEBAPP_PUBLISH: '127.0.0.1:', NGINX_PUBLISH: '127.0.0.1:', ...env }, true);
}

/** `docker inspect`'s NetworkSettings.Ports: container port ("9443/tcp") to its host bindings. */
type PortBindings = Record<string, { HostIp: string; HostPort: string }[] | null>;

/**
 * Where Docker published a container port, as a client on this host reaches it. The stack publishes
 * on 127.0.0.1, so that address is the one to use: Testcontainers' getHost() names the bridge
 * gateway when the tests run inside a container (/.dockerenv), and nothing listens there for a
 * loopback-only binding. A port published on every address is reached through getHost().
 */
function publishedAddress(container: StartedTestContainer, bindings: PortBindings | undefined, port: number): string {
  const binding = bindings?.[`${port}/tcp`]?.[0];
  if (!binding) throw new Error(`container port ${port}/tcp is not published`);
  const everyAddress = binding.HostIp === '' || binding.HostIp === '0.0.0.0' || binding.HostIp === '::';
  const host = everyAddress ? container.getHost() : binding.HostIp;
  return `${host.includes(':') ? `[${host}]` : host}:${binding.HostPort}`;
}
