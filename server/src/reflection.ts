import { basename, dirname, resolve } from 'node:path';
import { ReflectionService } from '@grpc/reflection';
import * as protoLoader from '@grpc/proto-loader';
import type { Server } from '@grpc/grpc-js';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { loaderOptions, protoPath } from '@dice/proto';

/**
 * Serves gRPC server reflection (grpc.reflection.v1 and v1alpha: grpcurl asks for v1 first and falls
 * back), describing api.proto and health.proto, so tools list and call the services without the
 * .proto files. Reflection is a method like any other: the caller-auth interceptor and
 * ACCESS_POLICY apply, and nginx forwards it only with a verified client certificate.
 */
export function addReflection(server: Server): void {
  // Loaded by names relative to include directories, so the descriptors are named as the files
  // import each other ("api.proto", "health/v1/health.proto"), not by where this image keeps them.
  const healthRoot = resolve(healthProtoPath, '../../..');
  const described = protoLoader.loadSync([basename(protoPath), healthProtoPath.slice(healthRoot.length + 1)], { ...loaderOptions, includeDirs: [dirname(protoPath), healthRoot] });
  new ReflectionService(described).addToServer(server);
}
