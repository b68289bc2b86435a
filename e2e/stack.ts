import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { DockerComposeEnvironment, Wait, type StartedDockerComposeEnvironment, type StartedTestContainer } from 'testcontainers';
import { dockerWithEnv } from './docker.ts';

export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
export const certsDir = process.env['CERTS_DIR'] ?? `${repoRoot}certs`;

export interface Stack {
  /** The compose project name, for `docker compose` and make targets (COMPOSE_PROJECT_NAME). */
  projectName: string;
  webappUrl: string;
  /** host:port of nginx's published gRPC port. */
  edgeAddress: string;
  container(service: 'server' | 'nginx' | 'webapp'): StartedTestContainer;
  /** Runs `docker compose` for this project with the variables the stack was started with. */
  compose(...args: string[]): Promise<string>;
  down(): Promise<void>;
}

export interface StackOptions {
  /** Extra compose variables, e.g. EDGE_RATE_LIMIT, ACCESS_POLICY, CERTS_DIR. */
  env?: Record<string, string>;
  /** Compose files laid over docker-compose.yml (paths relative to the repository). */
  overrides?: string[];
}

/**
 * Builds the images fresh and starts docker-compose.yml under its own project name, with the
 * published ports on random loopback ports so a running `make up` stack does not collide. Waits
 * on the compose healthchecks. down() removes containers and networks; the images keep their
 * names ($REGISTRY/service:$TAG, as `make images` builds them) for the next build to reuse. Call
 * down() in an after() hook (Ryuk is not there to clean up).
 */
export async function startStack({ env = {}, overrides = [] }: StackOptions = {}): Promise<Stack> {
  const projectName = `dice-e2e-${randomBytes(4).toString('hex')}`;
  const composeEnv = { WEBAPP_PUBLISH: '127.0.0.1:', NGINX_PUBLISH: '127.0.0.1:', ...env };
  const files = ['docker-compose.yml', ...overrides];
  const project = ['--project-directory', repoRoot, '--project-name', projectName, ...files.flatMap((file) => ['--file', `${repoRoot}${file}`])];
  const down = async (): Promise<void> => {
    await dockerWithEnv(composeEnv, 'compose', ...project, 'down', '--volumes', '--remove-orphans', '--timeout', '5');
  };
  let environment: StartedDockerComposeEnvironment;
  try {
    environment = await new DockerComposeEnvironment(repoRoot, files)
      .withProjectName(projectName)
      .withBuild()
      .withEnvironment(composeEnv)
      .withDefaultWaitStrategy(Wait.forHealthCheck())
      .withStartupTimeout(180_000)
      .up();
  } catch (error) {
    await down().catch(() => {});
    throw error;
  }
  const container = (service: string): StartedTestContainer => environment.getContainer(`${service}-1`);
  return {
    projectName,
    webappUrl: `http://127.0.0.1:${container('webapp').getMappedPort(8000)}`,
    edgeAddress: `127.0.0.1:${container('nginx').getMappedPort(9443)}`,
    container,
    compose: (...args) => dockerWithEnv(composeEnv, 'compose', ...project, ...args),
    down,
  };
}

