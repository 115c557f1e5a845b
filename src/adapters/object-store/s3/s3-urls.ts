import type { ObjectKey } from '../../../domain/object-key.ts';
import { publicUrlFor } from '../public-url.ts';
import type { S3Settings } from './s3-options.ts';
import type { S3Presigner } from './s3-presigner.ts';

/** The URL a recipient fetches `key` from: presigned, the CDN's, the bucket's own, or attache's redirecting one. Signing may throw. */
export async function s3UrlFor(presigner: S3Presigner, settings: S3Settings, key: ObjectKey): Promise<string> {
  if (settings.urlMode === 'signed') return presignedUrlFor(presigner, key, settings.urlTtlSeconds);
  if (settings.urlMode === 'redirect') return publicUrlFor(settings.redirectBaseUrl!, key);
  return publicUrlFor(settings.publicBaseUrl ?? objectBaseUrl(settings), key);
}

/** The URL of the bytes at the bucket (or CDN) itself, presigned for `lifeSeconds` unless the bucket is public. Signing may throw. */
export async function s3DirectUrlFor(presigner: S3Presigner, settings: S3Settings, key: ObjectKey, lifeSeconds: number): Promise<string> {
  if (settings.urlMode === 'public') return publicUrlFor(settings.publicBaseUrl ?? objectBaseUrl(settings), key);
  return presignedUrlFor(presigner, key, lifeSeconds);
}

function presignedUrlFor(presigner: S3Presigner, key: ObjectKey, lifeSeconds: number): Promise<string> {
  return presigner.get({ key, expiresInSeconds: lifeSeconds });
}

/** Where the bucket's objects are, addressed the way the client addresses them. */
function objectBaseUrl({ bucket: name, region, endpoint, forcePathStyle }: S3Settings): string {
  const bucket = encodeURIComponent(name);
  if (endpoint !== undefined) {
    if (forcePathStyle) return `${endpoint}/${bucket}`;
    const url = new URL(endpoint);
    return `${url.protocol}//${bucket}.${url.host}${url.pathname.replace(/\/+$/, '')}`;
  }
  const host = `s3.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
  // Virtual-hosted URLs for bucket names with dots fail TLS (the wildcard certificate covers one label).
  if (forcePathStyle || name.includes('.')) return `https://${host}/${bucket}`;
  return `https://${bucket}.${host}`;
}
