// Renders nginx/routes.yaml for the edge's image: `node nginx/routes/edge-routes.ts --out DIR` writes
// grpc-routes.conf, grpc-upstreams.conf, upstreams.tsv and methods.tsv into DIR (the image build does); without
// --out it prints them (make edge-routes). A bad route file stops it with one line naming the line.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { servicesIn, type ServiceMethods } from './proto-methods.ts';
import { renderRoutes, type RenderedRoutes } from './render-routes.ts';
import { parseRouteFile, RouteFileError } from './route-file.ts';

/** Reads, checks and renders a route file; protos are found relative to `root`. */
export function renderRouteFile(file: string, root: string): RenderedRoutes {
  const source = relative(root, file) || file;
  const table = parseRouteFile(readFileSync(file, 'utf8'), source);
  const services = new Map<string, ServiceMethods>();
  for (const route of table.routes) {
    let defined: Map<string, ServiceMethods>;
    try {
      defined = servicesIn(route.protos, root);
    } catch (error) {
      throw new RouteFileError(`${source}:${route.line}: ${(error as Error).message.split('\n')[0]}`);
    }
    for (const name of route.services) {
      const service = defined.get(name);
      if (!service) throw new RouteFileError(`${source}:${route.line}: ${name} is not a service of ${route.protos.join(', ')} (it defines ${[...defined.keys()].join(', ') || 'no service'})`);
      services.set(name, service);
    }
  }
  return renderRoutes(table, services, source);
}

/** The repository: the nearest directory above this module with the workspaces' lock file (the same from src and dist). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package-lock.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

if (import.meta.main) {
  const root = repositoryRoot();
  const args = process.argv.slice(2);
  const out = args[args.indexOf('--out') + 1];
  const file = resolve(process.env['EDGE_ROUTES_FILE'] ?? join(root, 'nginx/routes.yaml'));
  try {
    const rendered = renderRouteFile(file, root);
    if (args.includes('--out') && out) {
      mkdirSync(out, { recursive: true });
      writeFileSync(join(out, 'grpc-routes.conf'), rendered.locations);
      writeFileSync(join(out, 'grpc-upstreams.conf'), rendered.upstreams);
      writeFileSync(join(out, 'upstreams.tsv'), rendered.upstreamsTable);
      writeFileSync(join(out, 'methods.tsv'), rendered.methodsTable);
    } else {
      process.stdout.write(`# conf.d/grpc-upstreams.conf\n${rendered.upstreams}\n# the edge's locations (conf.d/grpc-edge.conf includes them)\n${rendered.locations}`);
    }
  } catch (error) {
    process.stderr.write(`error: ${error instanceof RouteFileError ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
