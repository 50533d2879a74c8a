// deploy/k8s/ checked without a cluster: every manifest parses, has a kind and apiVersion
// Kubernetes serves, selectors match pod labels, Services and probes point at ports the
// containers serve, the processes get the variables they read, secrets referenced exist, and
// the ConfigMap's routes.yaml passes the gateway's own validator.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROCESSES } from '../../deploy/docker/processes.mjs';
import { compileRouteTable, describeProblems } from '../../gateway/src/config/compileRouteTable.ts';
import { optionsFromEnv } from '../../gateway/src/env.ts';
import { tracingSettings } from '@mythoughts/runtime/tracing/setup';
import { REPO_ROOT } from './composeEnv.ts';

const K8S_DIR = path.join(REPO_ROOT, 'deploy/k8s');
const NAMESPACE = 'mythoughts';

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  PodDisruptionBudget: 'policy/v1',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PodMonitor: 'monitoring.coreos.com/v1',
};

type Labels = Record<string, string>;
interface Port {
  name?: string;
  containerPort: number;
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface Container {
  name: string;
  image: string;
  ports?: Port[];
  env?: EnvVar[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  configMap?: { name: string };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  emptyDir?: object;
}
interface Manifest {
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
interface Deployment extends Manifest {
  spec: {
    replicas: number;
    selector: { matchLabels: Labels };
    template: {
      metadata: { labels: Labels; annotations?: Labels };
      spec: { containers: Container[]; volumes?: Volume[]; securityContext?: Record<string, unknown>; terminationGracePeriodSeconds?: number };
    };
  };
}

function loadManifests(): Manifest[] {
  const manifests: Manifest[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (/\.ya?ml$/.test(entry.name)) {
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

const manifests = loadManifests();
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployments = byKind('Deployment') as Deployment[];
const secrets = byKind('Secret');
const matches = (selector: Labels, labels: Labels) => Object.entries(selector).every(([key, value]) => labels[key] === value);
const containerOf = (d: Deployment) => d.spec.template.spec.containers[0]!;
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
/** The process a Deployment runs, from its image name (mythoughts/<process>:tag). */
const processOf = (d: Deployment) => /^(?:.*\/)?mythoughts\/([a-z-]+):/.exec(containerOf(d).image)?.[1] as keyof typeof PROCESSES;

function resolvePort(container: Container, port: string | number): number | undefined {
  if (typeof port === 'number') return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** The ports the process listens on, from the variables it is given. */
function servedPorts(d: Deployment): { main: number; health: number } {
  const env = envOf(containerOf(d));
  const process = processOf(d);
  if (process === 'gateway') return { main: Number(env.GATEWAY_PORT?.value), health: Number(env.GATEWAY_ADMIN_PORT?.value) };
  const port = Number(env[PROCESSES[process].portVariable]?.value);
  return { main: port, health: port };
}

describe('deploy/k8s manifests', () => {
  it('parse, and each has a kind with the apiVersion Kubernetes serves it under, a name and the namespace', () => {
    expect(manifests.length).toBeGreaterThan(10);
    for (const m of manifests) {
      expect(API_VERSIONS[m.kind], `${m.file}: kind ${m.kind}`).toBeDefined();
      expect(m.apiVersion, `${m.file}: ${m.kind} apiVersion`).toBe(API_VERSIONS[m.kind]);
      if (m.kind === 'Kustomization') continue;
      expect(m.metadata?.name, `${m.file}: metadata.name`).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
      if (m.kind !== 'Namespace') expect(m.metadata.namespace, `${m.file}: ${m.kind}/${m.metadata.name} namespace`).toBe(NAMESPACE);
    }
    expect(byKind('Namespace').map((n) => n.metadata.name)).toEqual([NAMESPACE]);
  });

  it('kustomization.yaml lists every manifest but the Secret placeholders and the optional monitoring ones', () => {
    const [kustomization] = byKind('Kustomization');
    const listed = [...(kustomization?.resources ?? [])].sort();
    const files = [...new Set(manifests.filter((m) => m.kind !== 'Kustomization').map((m) => m.file))];
    const expected = files.filter((f) => !f.startsWith('monitoring/') && !manifests.some((m) => m.file === f && m.kind === 'Secret')).sort();
    expect(listed).toEqual(expected);
    expect(listed.some((f) => f.includes('secret'))).toBe(false);
  });

  it('runs the four processes; the gateway with 3 replicas, every back end with at least 2', () => {
    expect(deployments.map(processOf).sort()).toEqual(Object.keys(PROCESSES).sort());
    for (const d of deployments) {
      const process = processOf(d);
      expect(d.spec.replicas, d.metadata.name).toBeGreaterThanOrEqual(process === 'gateway' ? 3 : 2);
      if (process === 'gateway') expect(d.spec.replicas).toBe(3);
    }
  });

  it('Deployment selectors match their pod labels, and match no other Deployment', () => {
    for (const d of deployments) {
      expect(Object.keys(d.spec.selector.matchLabels).length, d.metadata.name).toBeGreaterThan(0);
      expect(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), d.metadata.name).toBe(true);
      for (const other of deployments.filter((o) => o !== d)) {
        expect(matches(d.spec.selector.matchLabels, other.spec.template.metadata.labels), `${d.metadata.name} selects ${other.metadata.name}`).toBe(false);
      }
    }
  });

  it('Services select exactly one Deployment and target ports its container declares and its process serves', () => {
    for (const service of byKind('Service')) {
      const targets = deployments.filter((d) => matches(service.spec.selector, d.spec.template.metadata.labels));
      expect(targets.length, `Service ${service.metadata.name} selects one Deployment`).toBe(1);
      const container = containerOf(targets[0]!);
      const served = Object.values(servedPorts(targets[0]!));
      for (const port of service.spec.ports as { name: string; port: number; targetPort: string | number }[]) {
        const resolved = resolvePort(container, port.targetPort);
        expect(resolved, `Service ${service.metadata.name} port ${port.name} → ${port.targetPort}`).toBeDefined();
        expect(served, `Service ${service.metadata.name}: the process listens on ${resolved}`).toContain(resolved);
      }
    }
    // The back ends are reached by the names the gateway's routes.yaml uses.
    for (const name of ['legacy-monolith', 'users', 'thoughts', 'gateway']) expect(byKind('Service').map((s) => s.metadata.name)).toContain(name);
  });

  it('probe /livez (liveness, startup) and /readyz (readiness) on the port the process serves them', () => {
    for (const d of deployments) {
      const container = containerOf(d);
      const { health } = servedPorts(d);
      expect(Number.isInteger(health) && health > 0, `${d.metadata.name}: its port variable is set`).toBe(true);
      const expected = { livenessProbe: '/livez', readinessProbe: '/readyz', startupProbe: '/livez' } as const;
      for (const [probe, probePath] of Object.entries(expected)) {
        const get = container[probe as keyof typeof expected]?.httpGet;
        expect(get?.path, `${d.metadata.name} ${probe}`).toBe(probePath);
        expect(resolvePort(container, get!.port), `${d.metadata.name} ${probe} port`).toBe(health);
      }
      expect(PROCESSES[processOf(d)].healthPath).toBe('/healthz');
    }
  });

  it('set requests and limits, run as non-root without privileges, on a read-only root with /tmp for tsx', () => {
    for (const d of deployments) {
      const container = containerOf(d);
      for (const kind of ['requests', 'limits'] as const) {
        expect(container.resources?.[kind]?.cpu, `${d.metadata.name} ${kind}.cpu`).toBeTruthy();
        expect(container.resources?.[kind]?.memory, `${d.metadata.name} ${kind}.memory`).toBeTruthy();
      }
      expect(d.spec.template.spec.securityContext?.runAsNonRoot).toBe(true);
      expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
      const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(d.spec.template.spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, `${d.metadata.name}: /tmp emptyDir`).toBeDefined();
    }
  });

  it('give each process the variables it reads: listen address, port, keys from the Secret, DATABASE_URL', () => {
    const secretKeys = new Map(secrets.map((s) => [s.metadata.name, Object.keys({ ...s.data, ...s.stringData })]));
    for (const d of deployments) {
      const container = containerOf(d);
      const env = envOf(container);
      const process = processOf(d);
      const mounts = new Map((container.volumeMounts ?? []).map((m) => [m.name, m]));
      for (const variable of Object.values(env)) {
        const ref = variable.valueFrom?.secretKeyRef;
        if (ref) expect(secretKeys.get(ref.name), `${d.metadata.name}: ${variable.name} from Secret ${ref.name}/${ref.key}`).toContain(ref.key);
      }
      // Key files: the path given is a file the mounted Secret volume projects.
      const files = new Map<string, string>();
      for (const volume of d.spec.template.spec.volumes ?? []) {
        const mount = mounts.get(volume.name);
        expect(mount, `${d.metadata.name}: volume ${volume.name} is mounted`).toBeDefined();
        expect(mount?.subPath, `${d.metadata.name}: ${volume.name} without subPath`).toBeUndefined();
        if (!volume.secret) continue;
        for (const item of volume.secret.items ?? []) {
          expect(secretKeys.get(volume.secret.secretName), `${d.metadata.name}: Secret ${volume.secret.secretName} key ${item.key}`).toContain(item.key);
          files.set(path.posix.join(mount!.mountPath, item.path), item.key);
        }
      }
      expect(files.get(env.JWT_PUBLIC_KEY_FILE?.value ?? ''), `${d.metadata.name}: JWT_PUBLIC_KEY_FILE`).toBe('jwt-public.pem');
      const signer = process === 'users' || process === 'legacy-monolith';
      if (signer) expect(files.get(env.JWT_PRIVATE_KEY_FILE?.value ?? ''), `${d.metadata.name}: JWT_PRIVATE_KEY_FILE`).toBe('jwt-private.pem');
      else expect([...files.values()], `${d.metadata.name} does not sign: no private key mounted`).not.toContain('jwt-private.pem');
      if (process === 'gateway') {
        expect(env.GATEWAY_ADMIN_HOST?.value).toBe('0.0.0.0');
        expect(env.GATEWAY_ADMIN_TOKEN?.valueFrom?.secretKeyRef, 'an admin port beyond loopback needs the token').toBeDefined();
      } else {
        expect(env.HOST?.value, `${d.metadata.name}: HOST`).toBe('0.0.0.0');
        expect(env.DATABASE_URL?.valueFrom?.secretKeyRef?.key, `${d.metadata.name}: DATABASE_URL from a Secret`).toBe('DATABASE_URL');
        expect(env.SEED_DEMO_DATA?.value, `${d.metadata.name}: no demo data in production`).toBe('false');
      }
    }
  });

  it('give every process the OTLP variables from one ConfigMap the tracing setup accepts, and the pod on every span', () => {
    const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, c.data ?? {}]));
    for (const d of deployments) {
      const env = envOf(containerOf(d));
      const tracing: Record<string, string> = {};
      for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_TRACES_SAMPLER', 'OTEL_TRACES_SAMPLER_ARG']) {
        const ref = env[name]?.valueFrom?.configMapKeyRef;
        expect(ref, `${d.metadata.name}: ${name} from a ConfigMap`).toBeDefined();
        const value = configMaps.get(ref!.name)?.[ref!.key];
        expect(value, `${d.metadata.name}: ConfigMap ${ref!.name} has ${ref!.key}`).toBeDefined();
        tracing[name] = value!;
      }
      // What the process itself makes of them: on, OTLP/HTTP to port 4318, a valid sampler.
      const settings = tracingSettings(processOf(d), tracing);
      expect(settings?.endpoint, d.metadata.name).toMatch(/^http:\/\/[a-z0-9.-]+:4318\/v1\/traces$/);
      expect(env.OTEL_RESOURCE_ATTRIBUTES?.value).toBe('k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE)');
      expect(env.POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
      expect(env.POD_NAMESPACE?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.namespace');
    }
  });

  /** The gateway Deployment's plain variables (not from Secrets), and what the gateway's own parser makes of them. */
  function gatewayEnv(): { gateway: Deployment; plain: Record<string, string>; options: ReturnType<typeof optionsFromEnv> } {
    const gateway = deployments.find((d) => processOf(d) === 'gateway')!;
    // The key file exists only in the pod.
    const plain = Object.fromEntries(
      Object.entries(envOf(containerOf(gateway))).flatMap(([name, v]) => (v.value === undefined || name === 'JWT_PUBLIC_KEY_FILE' ? [] : [[name, v.value]])),
    ) as Record<string, string>;
    return { gateway, plain, options: optionsFromEnv(plain) };
  }

  it('the gateway fails /readyz for a drain delay at SIGTERM, and the grace period covers delay and shutdown', () => {
    const { gateway, options } = gatewayEnv();
    expect(options.drainDelayMs).toBeGreaterThanOrEqual(5_000);
    const graceMs = Number(gateway.spec.template.spec.terminationGracePeriodSeconds) * 1000;
    expect(options.drainDelayMs! + options.shutdownTimeoutMs!).toBeLessThan(graceMs);
  });

  it('Secret placeholders say how to create the real ones', () => {
    for (const secret of secrets) {
      const values = Object.values({ ...secret.data, ...secret.stringData });
      expect(
        values.every((v) => v.includes('REPLACE-ME')),
        `${secret.metadata.name} holds placeholders only`,
      ).toBe(true);
    }
    const text = readFileSync(path.join(K8S_DIR, 'secrets.example.yaml'), 'utf8');
    for (const secret of secrets) expect(text).toContain(`create secret generic ${secret.metadata.name}`);
  });

  it('PodDisruptionBudgets select one Deployment and leave room for a voluntary eviction', () => {
    const pdbs = byKind('PodDisruptionBudget');
    expect(pdbs.length).toBe(deployments.length);
    for (const pdb of pdbs) {
      const targets = deployments.filter((d) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
      expect(targets.length, `PDB ${pdb.metadata.name}`).toBe(1);
      const replicas = targets[0]!.spec.replicas;
      const allowed = pdb.spec.minAvailable !== undefined ? replicas - Number(pdb.spec.minAvailable) : Number(pdb.spec.maxUnavailable);
      expect(allowed, `PDB ${pdb.metadata.name} allows an eviction`).toBeGreaterThanOrEqual(1);
      expect(replicas - allowed, `PDB ${pdb.metadata.name} keeps a pod`).toBeGreaterThanOrEqual(1);
    }
  });

  it('annotate the back ends for Prometheus on the port their /metrics is on; the gateway is scraped with its token', () => {
    for (const d of deployments) {
      const annotations = d.spec.template.metadata.annotations ?? {};
      const { health } = servedPorts(d);
      expect(Number(annotations['prometheus.io/port']), d.metadata.name).toBe(health);
      expect(annotations['prometheus.io/path']).toBe('/metrics');
      expect(annotations['prometheus.io/scrape'], d.metadata.name).toBe(processOf(d) === 'gateway' ? 'false' : 'true');
    }
    const [monitor] = byKind('ServiceMonitor');
    const adminService = byKind('Service').find(
      (s) => matches(monitor!.spec.selector.matchLabels, s.metadata.labels ?? {}) && s.spec.ports.some((p: { name: string }) => p.name === 'admin'),
    );
    expect(adminService, 'ServiceMonitor finds the admin Service').toBeDefined();
    const credentials = monitor!.spec.endpoints[0].authorization.credentials;
    expect(secrets.find((s) => s.metadata.name === credentials.name)?.stringData?.[credentials.key]).toBeDefined();
  });

  it('runs no rollout controller in the gateway replicas: their plan is the read-only ConfigMap', () => {
    const { gateway, plain, options } = gatewayEnv();
    expect(options.rollout).toBe(false);
    expect(containerOf(gateway).volumeMounts!.find((m) => m.mountPath === path.posix.dirname(plain.GATEWAY_ROUTES!))?.readOnly).toBe(true);
  });

  it("mounts routes.yaml from the ConfigMap as a folder (no subPath), and the gateway's validator accepts it", () => {
    const gateway = deployments.find((d) => processOf(d) === 'gateway')!;
    const container = containerOf(gateway);
    const routesPath = envOf(container).GATEWAY_ROUTES?.value ?? '';
    const volume = gateway.spec.template.spec.volumes!.find((v) => v.configMap);
    const mount = container.volumeMounts!.find((m) => m.name === volume?.name);
    expect(mount?.subPath, 'subPath mounts never receive ConfigMap updates').toBeUndefined();
    expect(path.posix.dirname(routesPath)).toBe(mount?.mountPath);
    const configMap = byKind('ConfigMap').find((c) => c.metadata.name === volume!.configMap!.name);
    const text = configMap?.data?.[path.posix.basename(routesPath)];
    expect(text, `ConfigMap ${volume!.configMap!.name} has ${path.posix.basename(routesPath)}`).toBeDefined();
    const result = compileRouteTable(text!, `${configMap!.file}#routes.yaml`);
    expect(result.ok, result.ok ? '' : describeProblems(result.problems)).toBe(true);
    // Every backend is a Service of this namespace, on a port the Service exposes.
    const backends = (parse(text!) as { backends: Record<string, { url: string }> }).backends;
    for (const [name, { url }] of Object.entries(backends)) {
      const { hostname, port } = new URL(url);
      const service = byKind('Service').find((s) => s.metadata.name === hostname);
      expect(service, `backend ${name}: Service ${hostname}`).toBeDefined();
      expect(
        service!.spec.ports.map((p: { port: number }) => String(p.port)),
        `backend ${name}: port`,
      ).toContain(port);
    }
  });
});
