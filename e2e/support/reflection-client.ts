// A server reflection client, as grpcurl is one: asks the edge what it serves, over v1 or v1alpha.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { edgeChannelOptions, edgeCredentials, type ClientIdentity } from './edge-client.ts';

export type ReflectionVersion = 'v1' | 'v1alpha';

/** One exchange's answer: the services listed, or the file descriptors returned, or the error. */
export interface ReflectionAnswer {
  services?: string[];
  files?: { name: string; package: string; services: { name: string; methods: string[] }[] }[];
  error?: { code: number; message: string };
}

type Request = { listServices: string } | { fileContainingSymbol: string };

interface RawAnswer {
  listServicesResponse?: { service: { name: string }[] };
  fileDescriptorResponse?: { fileDescriptorProto: Buffer[] };
  errorResponse?: { errorCode: number; errorMessage: string };
}

type ReflectionStub = new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => grpc.Client & {
  ServerReflectionInfo(): grpc.ClientDuplexStream<Request & { host?: string }, RawAnswer>;
};

const reflectionProtos = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '../proto');

function stubFor(version: ReflectionVersion): ReflectionStub {
  const definition = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [reflectionProtos], keepCase: false, oneofs: true });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { reflection: Record<ReflectionVersion, { ServerReflection: ReflectionStub }> } };
  return loaded.grpc.reflection[version].ServerReflection;
}

function decodeFile(bytes: Buffer): NonNullable<ReflectionAnswer['files']>[number] {
  const file = descriptor.FileDescriptorProto.toObject(descriptor.FileDescriptorProto.decode(bytes)) as { name: string; package: string; service?: { name: string; method?: { name: string }[] }[] };
  return { name: file.name, package: file.package, services: (file.service ?? []).map((service) => ({ name: service.name, methods: (service.method ?? []).map((method) => method.name) })) };
}

/**
 * Asks one question on a reflection stream through the edge, with the client certificate (or
 * none), and resolves with the answer, or with the call's failure as a grpc-js ServiceError.
 */
export function askReflection(address: string, identity: ClientIdentity, version: ReflectionVersion, request: Request): Promise<ReflectionAnswer> {
  const Stub = stubFor(version);
  const client = new Stub(address, edgeCredentials(identity), edgeChannelOptions);
  return new Promise<ReflectionAnswer>((resolve, reject) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (answer: RawAnswer) => {
      if (answer.listServicesResponse) resolve({ services: answer.listServicesResponse.service.map(({ name }) => name) });
      else if (answer.fileDescriptorResponse) resolve({ files: answer.fileDescriptorResponse.fileDescriptorProto.map(decodeFile) });
      else if (answer.errorResponse) resolve({ error: { code: answer.errorResponse.errorCode, message: answer.errorResponse.errorMessage } });
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  }).finally(() => client.close());
}
