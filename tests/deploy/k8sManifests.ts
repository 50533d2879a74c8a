// deploy/k8s/ read as the deploy tests need it: every manifest (the files a configMapGenerator
// turns into ConfigMaps are data, not manifests), the workloads' containers, their variables
// and the files their Secret volumes project.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './composeEnv.ts';

export const K8S_DIR = path.join(REPO_ROOT, 'deploy/k8s');
export const NAMESPACE = 'mythoughts';

export type Labels = Record<string, string>;
export interface Port {
  name?: string;
  containerPort: number;
}
export interface Probe {
  httpGet?: { path: string; port: string | number };
}
export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
export interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: Port[];
  env?: EnvVar[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
export interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: object;
}
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Labels; annotations?: Labels };
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the kinds differ; each test reads the fields it needs
  spec?: any;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  resources?: string[];
  file: string;
}
export interface PodTemplate {
  metadata: { labels: Labels; annotations?: Labels };
  spec: {
    containers: Container[];
    volumes?: Volume[];
    securityContext?: Record<string, unknown>;
    terminationGracePeriodSeconds?: number;
    restartPolicy?: string;
  };
}
/** A Deployment, StatefulSet or Job: what runs pods. */
export interface Workload extends Manifest {
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: PodTemplate;
    serviceName?: string;
    podManagementPolicy?: string;
    backoffLimit?: number;
    volumeClaimTemplates?: { metadata: { name: string } }[];
  };
}
export type Deployment = Workload;

/** kustomization.yaml's configMapGenerator: generated ConfigMap name → { key: file under deploy/k8s }. */
export function generatedConfigMaps(): Map<string, Record<string, string>> {
  const kustomization = parse(readFileSync(path.join(K8S_DIR, 'kustomization.yaml'), 'utf8')) as {
    configMapGenerator?: { name: string; files: string[] }[];
  };
  return new Map(
    (kustomization.configMapGenerator ?? []).map((generator) => [
      generator.name,
      Object.fromEntries(
        generator.files.map((entry) => {
          const [key, file] = entry.includes('=') ? (entry.split('=') as [string, string]) : [path.posix.basename(entry), entry];
          return [key, file];
        }),
      ),
    ]),
  );
}

export function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  // Files a generator turns into a ConfigMap are data, not manifests.
  const data = new Set([...generatedConfigMaps().values()].flatMap((files) => Object.values(files).map((file) => path.join(K8S_DIR, file))));
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.ya?ml$/.test(entry.name) && !data.has(file)) {
        for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
          expect(doc.errors, `${file}: YAML errors`).toEqual([]);
          const value = doc.toJS() as Omit<Manifest, 'file'> | null;
          if (value) manifests.push({ ...value, file: path.relative(K8S_DIR, file) });
        }
      }
    }
  };
  walk(K8S_DIR);
  return manifests;
}

/** The first container of a workload's pods. */
export const containerOf = (workload: Workload) => workload.spec.template.spec.containers[0]!;

/** A container's variables by name. */
export const envOf = (container: Container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e]));

/** Where each file a workload's container is given lives: mount path + item path → the Secret and key it projects. */
export function projectedFiles(workload: Workload): Map<string, { source: string; key: string }> {
  const container = containerOf(workload);
  const files = new Map<string, { source: string; key: string }>();
  for (const volume of workload.spec.template.spec.volumes ?? []) {
    const mount = container.volumeMounts?.find((m) => m.name === volume.name);
    if (!mount) continue;
    for (const item of volume.secret?.items ?? []) files.set(path.posix.join(mount.mountPath, item.path), { source: volume.secret!.secretName, key: item.key });
  }
  return files;
}
