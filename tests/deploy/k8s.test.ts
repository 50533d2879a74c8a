// deploy/k8s/ checked without a cluster: every manifest parses, has a kind and apiVersion
// Kubernetes serves, selectors match pod labels, Services and probes point at ports the
// containers serve, the processes get the variables they read, secrets referenced exist, the
// gateways and the plan-push Job reach the etcd StatefulSet's members with its TLS, and the
// plan the Job pushes from git passes the gateway's own validator.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { PROCESSES } from '../../deploy/docker/processes.mjs';
import { compileRouteTable, describeProblems } from '../../gateway/src/config/compileRouteTable.ts';
import { etcdSettingsFromEnv } from '../../gateway/src/etcd/etcdSettings.ts';
import { optionsFromEnv } from '../../gateway/src/env.ts';
import { tracingSettings } from '@mythoughts/runtime/tracing/setup';
import {
  containerOf,
  envOf,
  generatedConfigMaps,
  K8S_DIR,
  loadManifests,
  NAMESPACE,
  projectedFiles,
  type Container,
  type Deployment,
  type Labels,
  type Manifest,
  type Workload,
} from './k8sManifests.ts';

const API_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  ConfigMap: 'v1',
  Secret: 'v1',
  Service: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  Job: 'batch/v1',
  PodDisruptionBudget: 'policy/v1',
  Kustomization: 'kustomize.config.k8s.io/v1beta1',
  ServiceMonitor: 'monitoring.coreos.com/v1',
  PodMonitor: 'monitoring.coreos.com/v1',
};
const manifests = loadManifests();
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployments = byKind('Deployment') as Deployment[];
const statefulSets = byKind('StatefulSet') as Workload[];
const jobs = byKind('Job') as Workload[];
const workloads: Workload[] = [...deployments, ...statefulSets, ...jobs];
const secrets = byKind('Secret');
const matches = (selector: Labels, labels: Labels) => Object.entries(selector).every(([key, value]) => labels[key] === value);
/** The process a Deployment runs, from its image name (mythoughts/<process>:tag). */
const processOf = (d: Deployment) => /^(?:.*\/)?mythoughts\/([a-z-]+):/.exec(containerOf(d).image)?.[1] as keyof typeof PROCESSES;

function resolvePort(container: Container, port: string | number): number | undefined {
  if (typeof port === 'number') return container.ports?.some((p) => p.containerPort === port) ? port : undefined;
  return container.ports?.find((p) => p.name === port)?.containerPort;
}

/** The port of the first `--<flag>=scheme://host:PORT[,…]` among etcd's arguments. */
function etcdFlagPort(container: Container, flag: string): number {
  const value = container.args?.find((arg) => arg.startsWith(`--${flag}=`))?.split('=')[1];
  return Number(new URL(value!.split(',')[0]!).port);
}

/** The ports the process listens on, from the variables (or, for etcd, the flags) it is given. */
function servedPorts(d: Workload): { main: number; health: number; peer?: number } {
  const container = containerOf(d);
  if (d.kind === 'StatefulSet')
    return {
      main: etcdFlagPort(container, 'listen-client-urls'),
      health: etcdFlagPort(container, 'listen-metrics-urls'),
      peer: etcdFlagPort(container, 'listen-peer-urls'),
    };
  const env = envOf(container);
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
    const missing = [...generatedConfigMaps().values()]
      .flatMap((files) => Object.values(files))
      .filter((file) => !readdirSync(path.join(K8S_DIR, path.dirname(file))).includes(path.basename(file)));
    expect(missing, 'configMapGenerator files exist').toEqual([]);
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

  it('Services select exactly one Deployment or StatefulSet and target ports its container declares and its process serves', () => {
    for (const service of byKind('Service')) {
      const targets = [...deployments, ...statefulSets].filter((d) => matches(service.spec.selector, d.spec.template.metadata.labels));
      expect(targets.length, `Service ${service.metadata.name} selects one Deployment or StatefulSet`).toBe(1);
      const container = containerOf(targets[0]!);
      const served = Object.values(servedPorts(targets[0]!));
      for (const port of service.spec.ports as { name: string; port: number; targetPort: string | number }[]) {
        const resolved = resolvePort(container, port.targetPort);
        expect(resolved, `Service ${service.metadata.name} port ${port.name} → ${port.targetPort}`).toBeDefined();
        expect(served, `Service ${service.metadata.name}: the process listens on ${resolved}`).toContain(resolved);
      }
    }
    // The back ends are reached by the names the gateway's routes.yaml uses.
    for (const name of ['legacy-monolith', 'users', 'thoughts', 'gateway', 'etcd']) expect(byKind('Service').map((s) => s.metadata.name)).toContain(name);
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
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(['etcd', 'gateway', 'gateway-plan-push', 'legacy-monolith', 'thoughts', 'users']);
    for (const d of workloads) {
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
  /** What the downward API gives a gateway pod, for expanding $(VAR). */
  const SAMPLE_POD: Record<string, string> = { POD_NAME: 'gateway-5d8f9c7b6-x2k4q', POD_NAMESPACE: NAMESPACE, POD_IP: '10.1.2.3' };

  function gatewayEnv(): { gateway: Deployment; plain: Record<string, string>; options: ReturnType<typeof optionsFromEnv> } {
    const gateway = deployments.find((d) => processOf(d) === 'gateway')!;
    // The key file exists only in the pod; the etcd files are read by the parser: stand-ins.
    const plain = Object.fromEntries(
      Object.entries(envOf(containerOf(gateway))).flatMap(([name, v]) => (v.value === undefined || name === 'JWT_PUBLIC_KEY_FILE' ? [] : [[name, v.value]])),
    ) as Record<string, string>;
    // $(VAR) as Kubernetes expands it, with a pod's own name and address.
    const expanded = Object.fromEntries(
      Object.entries(plain).map(([name, value]) => [name, value.replace(/\$\((\w+)\)/g, (_w, ref: string) => SAMPLE_POD[ref] ?? '')]),
    );
    return { gateway, plain, options: withStandIns(gateway, expanded, (env) => optionsFromEnv(env)) };
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

  it('PodDisruptionBudgets select one Deployment or StatefulSet and leave room for a voluntary eviction', () => {
    const pdbs = byKind('PodDisruptionBudget');
    const served = [...deployments, ...statefulSets];
    expect(pdbs.length).toBe(served.length);
    for (const pdb of pdbs) {
      const targets = served.filter((d) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
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

  /** The etcd members' client URLs as the StatefulSet names them: <name>-<i>.<service>.<namespace>.svc:<client port>. */
  function etcdMembers(): string[] {
    const [etcd] = statefulSets;
    const port = servedPorts(etcd!).main;
    return Array.from({ length: etcd!.spec.replicas }, (_, i) => `${etcd!.metadata.name}-${i}.${etcd!.spec.serviceName}.${NAMESPACE}.svc:${port}`);
  }

  const STORE_VARIABLES = [
    'GATEWAY_PLAN_STORE',
    'GATEWAY_ETCD_CA_FILE',
    'GATEWAY_ETCD_CERT_FILE',
    'GATEWAY_ETCD_KEY_FILE',
    'GATEWAY_ETCD_USERNAME',
    'GATEWAY_ETCD_PASSWORD_FILE',
  ];

  /**
   * What the gateway's own parser makes of a workload's etcd variables: every *_FILE must be a
   * file the pod gets from a Secret; the test writes a stand-in for each (the parser reads them).
   */
  /**
   * Runs `parse` on `env` with each GATEWAY_ETCD_*_FILE pointing at a stand-in file (the parser
   * reads them; the real ones exist only in the pod): each must be a file a mounted Secret projects.
   */
  function withStandIns<T>(workload: Workload, env: Record<string, string>, parse: (env: Record<string, string>) => T): T {
    const files = projectedFiles(workload);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'k8s-etcd-'));
    try {
      const mapped = { ...env };
      for (const [name, value] of Object.entries(env)) {
        if (!name.startsWith('GATEWAY_ETCD_') || !name.endsWith('_FILE')) continue;
        expect(files.get(value), `${workload.metadata.name}: ${name}=${value} is a file a mounted Secret projects`).toBeDefined();
        mapped[name] = path.join(dir, path.posix.basename(value));
        writeFileSync(mapped[name], `${files.get(value)!.key}\n`);
      }
      return parse(mapped);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  function storeSettingsOf(workload: Workload) {
    const env = envOf(containerOf(workload));
    const plain: Record<string, string> = {};
    for (const name of STORE_VARIABLES) {
      expect(env[name]?.value, `${workload.metadata.name}: ${name}`).toBeDefined();
      plain[name] = env[name]!.value!;
    }
    return {
      settings: withStandIns(workload, plain, (mapped) => etcdSettingsFromEnv(mapped)!),
      secrets: new Set([...projectedFiles(workload).values()].map((f) => f.source)),
    };
  }

  it('runs a 3-member etcd StatefulSet: stable member names from its headless Service, one initial cluster, TLS for clients and peers', () => {
    expect(statefulSets.length).toBe(1);
    const etcd = statefulSets[0]!;
    const container = containerOf(etcd);
    expect(container.image, 'the official image, pinned').toMatch(/^gcr\.io\/etcd-development\/etcd:v3\.\d+\.\d+$/);
    expect(etcd.spec.replicas % 2, 'an odd number of members').toBe(1);
    expect(etcd.spec.replicas).toBe(3);
    expect(etcd.spec.podManagementPolicy, 'the initial members start together').toBe('Parallel');
    const service = byKind('Service').find((s) => s.metadata.name === etcd.spec.serviceName);
    expect(service?.spec.clusterIP, 'the governing Service is headless').toBe('None');
    expect(service?.spec.publishNotReadyAddresses, 'members resolve each other before they are ready').toBe(true);
    const flag = (name: string) => container.args?.find((arg) => arg === `--${name}` || arg.startsWith(`--${name}=`))?.replace(/^--[^=]+=?/, '');
    expect(flag('name')).toBe('$(POD_NAME)');
    expect(envOf(container).POD_NAME?.valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    const peerPort = servedPorts(etcd).peer;
    const members = Array.from({ length: etcd.spec.replicas }, (_, i) => `${etcd.metadata.name}-${i}`);
    expect(flag('initial-cluster')).toBe(members.map((m) => `${m}=https://${m}.${etcd.spec.serviceName}.${NAMESPACE}.svc:${peerPort}`).join(','));
    expect(flag('initial-advertise-peer-urls')).toBe(`https://$(POD_NAME).${etcd.spec.serviceName}.${NAMESPACE}.svc:${peerPort}`);
    expect(flag('advertise-client-urls')).toBe(`https://$(POD_NAME).${etcd.spec.serviceName}.${NAMESPACE}.svc:${servedPorts(etcd).main}`);
    for (const url of ['listen-client-urls', 'listen-peer-urls']) expect(flag(url), url).toMatch(/^https:/);
    // Clients and peers need a certificate from the CA; every file named is projected from etcd-tls.
    expect(flag('client-cert-auth')).toBe('');
    expect(flag('peer-client-cert-auth')).toBe('');
    const files = projectedFiles(etcd);
    for (const name of ['trusted-ca-file', 'cert-file', 'key-file', 'peer-trusted-ca-file', 'peer-cert-file', 'peer-key-file'])
      expect(files.get(flag(name) ?? '')?.source, `--${name}`).toBe('etcd-tls');
    // The data on a volume per member, under the data dir.
    const [claim] = etcd.spec.volumeClaimTemplates ?? [];
    const dataMount = container.volumeMounts?.find((m) => m.name === claim?.metadata.name);
    expect(flag('data-dir')?.startsWith(`${dataMount?.mountPath}/`), '--data-dir on the claimed volume').toBe(true);
  });

  it('runs the gateway on the etcd store (TLS, client certificate, etcd user), with its own plan cache and the fleet rollout on', () => {
    const { gateway, plain, options } = gatewayEnv();
    const container = containerOf(gateway);
    const { settings, secrets: used } = storeSettingsOf(gateway);
    expect(settings.hosts, 'every etcd member, over TLS').toEqual(etcdMembers().map((m) => `https://${m}`));
    expect(settings.tls && settings.tls.cert && settings.tls.key, 'a client certificate (etcd --client-cert-auth)').toBeTruthy();
    expect(settings.auth?.username, 'an etcd user (etcd auth enabled)').toBe('gateway');
    expect([...used]).toContain('gateway-etcd-client');
    expect(plain.GATEWAY_ROUTES, 'no routes file: the plan is in etcd').toBeUndefined();
    expect(
      gateway.spec.template.spec.volumes?.some((v) => v.configMap),
      'no ConfigMap mount',
    ).toBe(false);
    // The cache on a writable emptyDir (survives a container restart).
    const cacheMount = container.volumeMounts?.find((m) => plain.GATEWAY_PLAN_CACHE?.startsWith(`${m.mountPath}/`));
    expect(cacheMount?.readOnly).not.toBe(true);
    expect(gateway.spec.template.spec.volumes?.find((v) => v.name === cacheMount?.name)?.emptyDir, 'GATEWAY_PLAN_CACHE on an emptyDir').toBeDefined();
    // Named by its pod; reachable by the others at its pod IP, a Host its admin port answers.
    expect(plain.GATEWAY_REPLICA_ID).toBe('$(POD_NAME)');
    expect(plain.GATEWAY_ADVERTISE_ADMIN_URL).toBe(`http://$(POD_IP):${options.adminPort}`);
    expect(options.adminHosts).toContain(`${SAMPLE_POD.POD_IP}:${options.adminPort}`);
    expect(options.rollout, 'every replica campaigns; the elected one runs the rollout').not.toBe(false);
  });

  it('expands $(VAR) only from variables defined before it in the same container (as Kubernetes does)', () => {
    for (const workload of workloads) {
      for (const container of workload.spec.template.spec.containers) {
        const seen = new Set<string>();
        for (const variable of container.env ?? []) {
          for (const [, name] of (variable.value ?? '').matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g))
            expect(seen, `${workload.metadata.name}: ${variable.name} uses $(${name}) defined after it, or never`).toContain(name);
          seen.add(variable.name);
        }
        for (const arg of [...(container.command ?? []), ...(container.args ?? [])])
          for (const [, name] of arg.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) expect(seen, `${workload.metadata.name}: ${arg}`).toContain(name);
      }
    }
  });

  it("pushes the plan kept in git with a Job: the generated ConfigMap, the gateway's store and credentials, a plan the validator accepts", () => {
    expect(jobs.map((j) => j.metadata.name)).toEqual(['gateway-plan-push']);
    const job = jobs[0]!;
    const container = containerOf(job);
    expect(processOf(job), 'the gateway image').toBe('gateway');
    expect(job.spec.backoffLimit, 'retried while etcd is still forming').toBeGreaterThan(0);
    expect(['OnFailure', 'Never']).toContain(job.spec.template.spec.restartPolicy);
    const args = container.args ?? [];
    expect(args.slice(0, 4), 'run by the image entrypoint as the gateway CLI').toEqual(['node', '--import', 'tsx', PROCESSES.gateway.entry[0]]);
    const push = args.indexOf('push');
    expect(args[push - 1]).toBe('plan');
    const planPath = args[push + 1]!;
    // The file is the generated ConfigMap's key, mounted as a folder.
    const volume = job.spec.template.spec.volumes!.find((v) => v.configMap);
    const mount = container.volumeMounts!.find((m) => m.name === volume?.name);
    expect(path.posix.dirname(planPath)).toBe(mount?.mountPath);
    const generated = generatedConfigMaps().get(volume!.configMap!.name);
    expect(generated, `ConfigMap ${volume!.configMap!.name} comes from configMapGenerator`).toBeDefined();
    const file = generated![path.posix.basename(planPath)]!;
    const text = readFileSync(path.join(K8S_DIR, file), 'utf8');
    const result = compileRouteTable(text, path.join('deploy/k8s', file));
    expect(result.ok, result.ok ? '' : describeProblems(result.problems)).toBe(true);
    // Every backend is a Service of this namespace, on a port the Service exposes.
    const backends = (parse(text) as { backends: Record<string, { url: string }> }).backends;
    for (const [name, { url }] of Object.entries(backends)) {
      const { hostname, port } = new URL(url);
      const service = byKind('Service').find((s) => s.metadata.name === hostname);
      expect(service, `backend ${name}: Service ${hostname}`).toBeDefined();
      expect(
        service!.spec.ports.map((p: { port: number }) => String(p.port)),
        `backend ${name}: port`,
      ).toContain(port);
    }
    // The same store, with the same credentials, as the gateways read.
    const gatewayVariables = envOf(containerOf(gatewayEnv().gateway));
    for (const name of STORE_VARIABLES) expect(envOf(container)[name]?.value, name).toBe(gatewayVariables[name]?.value);
    expect(storeSettingsOf(job).settings.hosts).toEqual(etcdMembers().map((m) => `https://${m}`));
  });

  describe.skipIf(spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status !== 0)('with kubectl', () => {
    it('kustomize builds it, naming the plan ConfigMap by its content in the Job', () => {
      const built = spawnSync('kubectl', ['kustomize', K8S_DIR], { encoding: 'utf8' });
      expect(built.status, built.stderr).toBe(0);
      const docs = parseAllDocuments(built.stdout).map((d) => d.toJS() as Manifest);
      const configMap = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.startsWith('gateway-plan-'))!;
      expect(configMap.metadata.name).toMatch(/^gateway-plan-[a-z0-9]{10}$/);
      expect(configMap.data?.['routes.yaml']).toBe(readFileSync(path.join(K8S_DIR, generatedConfigMaps().get('gateway-plan')!['routes.yaml']!), 'utf8'));
      const job = docs.find((d) => d.kind === 'Job') as Workload;
      expect(job.spec.template.spec.volumes?.find((v) => v.configMap)?.configMap?.name).toBe(configMap.metadata.name);
    });
  });
});
