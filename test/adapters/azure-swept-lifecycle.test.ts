/**
 * Retention on Azure, on Azurite: attache cannot install a lifecycle management policy (an Azure Resource
 * Manager setting, which Azurite does not implement either), so it sweeps the container by the same rules
 * (SweptLifecycle over AzureObjectStore.removeStale) and prints the policy for the operator. The sweeps
 * below remove real blobs; the clock is moved forward rather than waited for.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { azureManagementPolicy } from '../../src/adapters/object-store/azure/azure-management-policy.ts';
import { AzureObjectStore } from '../../src/adapters/object-store/azure/azure-object-store.ts';
import { SweptLifecycle, type SweptRules } from '../../src/application/swept-lifecycle.ts';
import { lifecycleRulesFor } from '../../src/domain/lifecycle-rules.ts';
import type { ObjectKey } from '../../src/domain/object-key.ts';
import { azureContainerClient } from '../support/azure/azurite-global-setup.ts';

const server = inject('azureTestServer');
if (server.unusable) throw new Error(server.unusable);
const DAY_MS = 24 * 60 * 60 * 1000;
const container = `attache-lifecycle-${randomUUID().slice(0, 8)}`;
const inspector = azureContainerClient(server, container);
const store = new AzureObjectStore({ container, account: server.account, accountKey: server.accountKey, endpoint: server.endpoint, urlMode: 'public' });
const meta = { contentType: 'application/pdf', fileName: 'a.pdf', disposition: 'attachment' } as const;
const KEYS = ['incoming/1-a.pdf', 'staged/2', 'staged/2.answer.json', 'chat/session-1/3-a.pdf', 'chat/session-1/3-a.pdf.preview.webp', 'elsewhere/4'];

async function names(): Promise<string[]> {
  const found: string[] = [];
  for await (const blob of inspector.listBlobsFlat()) found.push(blob.name);
  return found.sort();
}

/** The lifecycle as the service runs it, its clock `daysLater` days ahead. */
const sweptAfter = (daysLater: number) => new SweptLifecycle({ store, policyFor: (rules) => azureManagementPolicy(container, rules), now: () => Date.now() + daysLater * DAY_MS });

beforeAll(async () => {
  await inspector.create();
  for (const key of KEYS) await store.put(key as ObjectKey, Readable.from([Buffer.from(key)]), meta);
});
afterAll(async () => {
  store.close();
  await inspector.deleteIfExists();
});

describe('SweptLifecycle over AzureObjectStore (Azurite)', () => {
  const rules = lifecycleRulesFor(30, { staged: 2 });

  it('removes nothing on a dry run, and nothing younger than its rule', async () => {
    const dry = await sweptAfter(40).apply(rules, { dryRun: true });
    expect(dry.changed).toBe(false);
    expect((dry.backendConfiguration as SweptRules).swept).toEqual({});
    const early = await sweptAfter(0.5).apply(rules, { dryRun: false });
    expect(early.changed).toBe(false);
    expect(await names()).toEqual([...KEYS].sort());
  });

  it('expires provisional uploads after a day, staged ones after their days, attachments after RETENTION_DAYS; nothing else', async () => {
    const afterOneDay = await sweptAfter(1.1).apply(rules, { dryRun: false });
    expect((afterOneDay.backendConfiguration as SweptRules).swept).toMatchObject({ 'attache-expire-incoming': 1, 'attache-staged-direct-uploads': 0, 'attache-retention': 0 });
    expect(await names()).not.toContain('incoming/1-a.pdf');
    await sweptAfter(2.1).apply(rules, { dryRun: false });
    expect(await names()).toEqual(['chat/session-1/3-a.pdf', 'chat/session-1/3-a.pdf.preview.webp', 'elsewhere/4']);
    const afterRetention = await sweptAfter(30.1).apply(rules, { dryRun: false });
    expect((afterRetention.backendConfiguration as SweptRules).swept['attache-retention']).toBe(2);
    expect(await names()).toEqual(['elsewhere/4']);
    // Without RETENTION_DAYS, attachments stay whatever their age.
    await store.put('chat/session-1/5-a.pdf' as ObjectKey, Readable.from([Buffer.from('kept')]), meta);
    await sweptAfter(3650).apply(lifecycleRulesFor(undefined, { staged: 2 }), { dryRun: false });
    expect(await names()).toEqual(['chat/session-1/5-a.pdf', 'elsewhere/4']);
  });

  it('prints the management policy: one delete rule per expire rule, prefixed with the container, names of letters and digits', async () => {
    const { backendConfiguration } = await sweptAfter(0).apply(rules, { dryRun: true });
    const policy = (backendConfiguration as SweptRules).policy as { rules: { name: string; definition: { actions: unknown; filters: { prefixMatch: string[] } } }[] };
    expect(policy.rules.map((rule) => rule.name)).toEqual(['attacheExpireIncoming', 'attacheStagedDirectUploads', 'attacheRetention']);
    expect(policy.rules.every((rule) => /^[A-Za-z0-9]+$/.test(rule.name))).toBe(true);
    expect(policy.rules[2]).toEqual({
      enabled: true,
      name: 'attacheRetention',
      type: 'Lifecycle',
      definition: { actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: 30 } } }, filters: { blobTypes: ['blockBlob'], prefixMatch: [`${container}/chat/`] } },
    });
  });
});
