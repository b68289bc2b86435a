// A strict check of rendered manifests against the Kubernetes API's types: kubernetes-models'
// validate() accepts fields the API does not have (a misspelled `readOnlyRootFilesytem` passes, and
// the API server would drop it without a word), so each object is also type-checked, by the
// TypeScript compiler, as an object literal of its kubernetes-models interface: an excess-property
// check at every depth, and every field's type, as the OpenAPI schema the models come from says.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const deployDir = fileURLToPath(new URL('.', import.meta.url));

/** The kubernetes-models interface of each kind the manifests use. */
const interfaces: Record<string, { module: string; name: string }> = {
  'apps/v1 Deployment': { module: 'kubernetes-models/apps/v1/Deployment', name: 'IDeployment' },
  'v1 Service': { module: 'kubernetes-models/v1/Service', name: 'IService' },
  'policy/v1 PodDisruptionBudget': { module: 'kubernetes-models/policy/v1/PodDisruptionBudget', name: 'IPodDisruptionBudget' },
  'networking.k8s.io/v1 NetworkPolicy': { module: 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy', name: 'INetworkPolicy' },
  'gateway.networking.k8s.io/v1 Gateway': { module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway', name: 'IGateway' },
  'gateway.networking.k8s.io/v1 TLSRoute': { module: '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRoute', name: 'ITLSRoute' },
  'cert-manager.io/v1 Certificate': { module: '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate', name: 'ICertificate' },
  'cert-manager.io/v1 ClusterIssuer': { module: '@kubernetes-models/cert-manager/cert-manager.io/v1/ClusterIssuer', name: 'IClusterIssuer' },
  'trust.cert-manager.io/v1alpha1 Bundle': { module: '@kubernetes-models/cert-manager/trust.cert-manager.io/v1alpha1/Bundle', name: 'IBundle' },
};

export function strictlyCheckedKinds(): string[] {
  return Object.keys(interfaces);
}

/** Every field an object has that its API type lacks, or whose value is of the wrong type, by object. */
export function strictSchemaProblems(objects: { apiVersion: string; kind: string; metadata: { name: string } }[]): string[] {
  const checked = objects.filter((object) => `${object.apiVersion} ${object.kind}` in interfaces);
  const imports = [...new Set(checked.map((object) => `${object.apiVersion} ${object.kind}`))].map((key, index) => `import type { ${interfaces[key]?.name} as T${index} } from '${interfaces[key]?.module}';`);
  const typeOf = new Map([...new Set(checked.map((object) => `${object.apiVersion} ${object.kind}`))].map((key, index) => [key, `T${index}`]));
  // One declaration per line block, so a diagnostic's line names its object.
  const starts: number[] = [];
  const lines = [...imports];
  for (const [index, object] of checked.entries()) {
    starts.push(lines.length);
    lines.push(`export const object${index}: ${typeOf.get(`${object.apiVersion} ${object.kind}`)} = ${JSON.stringify(object, null, 1)};`.replaceAll('\n', ' '));
  }
  const file = `${deployDir}__strict-schema-check__.ts`;
  const source = lines.join('\n');
  const options: ts.CompilerOptions = { strict: true, noEmit: true, skipLibCheck: true, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, types: [] };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language, ...rest) => (name === file ? ts.createSourceFile(name, source, language) : getSourceFile(name, language, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const problems: string[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    if (diagnostic.file?.fileName !== file || diagnostic.start === undefined) {
      problems.push(`the check itself: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`);
      continue;
    }
    const line = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line;
    const index = starts.findLastIndex((start) => start <= line);
    const object = checked[index];
    problems.push(`${object?.kind}/${object?.metadata.name}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ').replace(/ in type '[^']*'/, '').replace(/'"([^"]+)"'/g, "'$1'")}`);
  }
  return problems;
}
