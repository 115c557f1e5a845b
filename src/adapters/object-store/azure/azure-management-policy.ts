import type { LifecycleRule } from '../../../domain/lifecycle-rules.ts';

/**
 * attache's lifecycle rules as an Azure Storage lifecycle management policy, the JSON
 * `az storage account management-policy create --policy @policy.json` takes
 * (https://learn.microsoft.com/azure/storage/blobs/lifecycle-management-overview).
 *
 * attache cannot install it itself: a management policy is a setting of the storage account in Azure
 * Resource Manager (Microsoft.Storage/storageAccounts/managementPolicies), not a Blob service call, so the
 * account key, a SAS or a Storage Blob Data role cannot set it, and Azurite does not implement it. The
 * policy is one per account, for every container: `prefixMatch` starts with the container's name, and
 * `create` replaces the whole policy, so rules already there must be merged in.
 *
 * Rule names are letters and digits only (`attache-expire-incoming` becomes `attacheExpireIncoming`).
 * `abort-multipart` has no rule here: blocks never committed are deleted by Azure itself after 7 days.
 */
export function azureManagementPolicy(container: string, rules: readonly LifecycleRule[]): { rules: object[] } {
  return {
    rules: rules
      .filter((rule) => rule.action === 'expire')
      .map((rule) => ({
        enabled: true,
        name: rule.id.replace(/-([a-z0-9])/g, (_, letter: string) => letter.toUpperCase()),
        type: 'Lifecycle',
        definition: {
          actions: { baseBlob: { delete: { daysAfterModificationGreaterThan: rule.days } } },
          filters: { blobTypes: ['blockBlob'], prefixMatch: [`${container}/${rule.prefix}`] },
        },
      })),
  };
}
