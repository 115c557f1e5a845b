/**
 * deploy/kubernetes/, checked offline: every object against the Kubernetes API's own OpenAPI
 * schemas (kubernetes-models, generated from them), and against attache: its probes, its drain,
 * its environment (every variable one attache reads, with values it accepts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ENVIRONMENT_VARIABLES, loadConfig } from '../../src/composition/config.ts';

const dir = fileURLToPath(new URL('../../deploy/kubernetes/', import.meta.url));
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
};

type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any; data?: Record<string, string> };
const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
const objects: Array<{ file: string; object: Manifest }> = [];
for (const file of files.filter((f) => f !== 'kustomization.yaml')) {
  for (const doc of parseAllDocuments(await readFile(join(dir, file), 'utf8'))) {
    expect(doc.errors, file).toEqual([]);
    objects.push({ file, object: doc.toJSON() as Manifest });
  }
}
const find = (kind: string, name = 'attache') => objects.find((o) => o.object.kind === kind && o.object.metadata.name === name)!.object;

describe('deploy/kubernetes', () => {
  it.each(objects.map((o) => [`${o.file}: ${o.object.kind} ${o.object.metadata.name}`, o.object] as const))('%s is valid against the Kubernetes schema', (_, object) => {
    const Model = MODELS[`${object.apiVersion}/${object.kind}`];
    expect(Model, `no schema known for ${object.apiVersion} ${object.kind}`).toBeDefined();
    expect(() => new Model!(object as never).validate()).not.toThrow();
  });

  it('kustomization.yaml lists every manifest', async () => {
    const [kustomization] = parseAllDocuments(await readFile(join(dir, 'kustomization.yaml'), 'utf8'));
    expect([...(kustomization!.toJSON() as { resources: string[] }).resources].sort()).toEqual(files.filter((f) => f !== 'kustomization.yaml'));
  });

  it('probes /healthz and /readyz, and drains within the grace period: preStop + SHUTDOWN_GRACE_MS < terminationGracePeriodSeconds', () => {
    const pod = find('Deployment').spec.template.spec;
    const container = pod.containers[0];
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    const config = find('ConfigMap').data!;
    const drainSeconds = container.lifecycle.preStop.sleep.seconds + Number(config['SHUTDOWN_GRACE_MS']) / 1000;
    expect(drainSeconds).toBeLessThan(pod.terminationGracePeriodSeconds);
  });

  it('configures attache only with variables it reads, and values it accepts', () => {
    const env = find('ConfigMap').data!;
    expect(Object.keys(env).filter((name) => !(name in ENVIRONMENT_VARIABLES))).toEqual([]);
    const config = loadConfig(env);
    expect(config.limits).toMatchObject({ redisUrl: 'redis://attache-valkey:6379', uploads: { limit: 120, windowSeconds: 60 } });
    expect(env['REDIS_URL']).toContain(find('Service', 'attache-valkey').metadata.name);
  });

  it('ties the Service, the PodDisruptionBudget and the autoscaler to the Deployment', () => {
    const labels = find('Deployment').spec.template.metadata.labels;
    expect(labels).toMatchObject(find('Service').spec.selector);
    expect(labels).toMatchObject(find('PodDisruptionBudget').spec.selector.matchLabels);
    expect(find('HorizontalPodAutoscaler').spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'attache' });
    expect(find('Service', 'attache-valkey').spec.selector).toEqual(find('Deployment', 'attache-valkey').spec.template.metadata.labels);
  });
});
