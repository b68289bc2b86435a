// What a route's .proto files say about its services: each method's path and which way it streams,
// read with the loader the services themselves use (@grpc/proto-loader), so nothing about a method is
// written twice.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as protoLoader from '@grpc/proto-loader';

export type MethodKind = 'unary' | 'server-streaming' | 'client-streaming' | 'bidirectional';

export interface ServiceMethods {
  service: string;
  methods: { name: string; path: string; kind: MethodKind }[];
}

const kindOf = (requestStream: boolean, responseStream: boolean): MethodKind =>
  requestStream ? (responseStream ? 'bidirectional' : 'client-streaming') : responseStream ? 'server-streaming' : 'unary';

/**
 * Where a proto the route file names is: relative to the repository (the route file's parent), or
 * else inside an installed package (the health and reflection protos come with theirs).
 */
function protoFile(path: string, root: string): string | undefined {
  return [resolve(root, path), join(root, 'node_modules', path)].find((candidate) => existsSync(candidate));
}

/** Every service the protos define, with its methods; `root` is where relative paths start. */
export function servicesIn(protos: string[], root: string): Map<string, ServiceMethods> {
  const services = new Map<string, ServiceMethods>();
  for (const proto of protos) {
    const file = protoFile(proto, root);
    if (!file) throw new Error(`${proto} is not a file (looked in ${root} and its node_modules)`);
    const definition = protoLoader.loadSync(file, { includeDirs: [dirname(file)] });
    for (const [name, entry] of Object.entries(definition)) {
      // Messages and enums carry a format; a service is a map of methods, each with its path.
      if ('format' in entry) continue;
      const methods = Object.entries(entry as protoLoader.ServiceDefinition).map(([method, { path, requestStream, responseStream }]) => ({ name: method, path, kind: kindOf(requestStream, responseStream) }));
      services.set(name, { service: name, methods });
    }
  }
  return services;
}
