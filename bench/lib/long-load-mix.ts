import { seededRandom } from '../../test/support/seeded-random.ts';
import type { UploadResult, UploadSpec } from './upload-client.ts';

/** What a request of the long load is, and so what it must end as. */
export type RequestKind = 'valid' | 'cut' | 'refused-type' | 'oversize';

export interface LoadRequest {
  readonly kind: RequestKind;
  readonly spec: UploadSpec;
}

const KB = 1024;
/** Shares of the load that are not plain valid uploads. */
const CUT_SHARE = 0.04;
const REFUSED_SHARE = 0.03;
const OVERSIZE_SHARE = 0.02;
/** Bytes of an oversize upload: above the 2 MiB MAX_FILE_SIZE the long load runs attache with. */
export const OVERSIZE_BYTES = 3_000_000;
export const LONG_LOAD_MAX_FILE_SIZE = 2 * 1024 * KB;

/**
 * The long load's requests, the same for a given seed: valid PDF uploads of 20-200 KB in either field
 * order, with and without session_id, mixed with uploads the client cuts off mid-body, refused types
 * (virus.exe) and files over the size limit. PDFs, not JPEGs: the bench's files are random bytes after
 * a valid head, which the previewer (on by default for images) would try, and fail, to decode; photos
 * have scenarios of their own.
 */
export function longLoadRequests(count: number, seed: number): LoadRequest[] {
  const random = seededRandom(seed);
  const between = (low: number, high: number) => Math.floor(low + random() * (high - low));
  const smallFile = (fileName: string): UploadSpec => ({
    bytes: between(20 * KB, 200 * KB + 1),
    fileName,
    order: random() < 0.5 ? 'file-first' : 'session-first',
    ...(random() < 0.8 ? { sessionId: String(between(1, 101)) } : {}),
  });
  return Array.from({ length: count }, (): LoadRequest => {
    const draw = random();
    const name = 'report.pdf';
    if (draw < CUT_SHARE) {
      const spec = smallFile(name);
      return { kind: 'cut', spec: { ...spec, cutAfterBytes: Math.floor(spec.bytes * (0.1 + 0.8 * random())) } };
    }
    if (draw < CUT_SHARE + REFUSED_SHARE) return { kind: 'refused-type', spec: smallFile('virus.exe') };
    if (draw < CUT_SHARE + REFUSED_SHARE + OVERSIZE_SHARE) return { kind: 'oversize', spec: { ...smallFile(name), bytes: OVERSIZE_BYTES } };
    return { kind: 'valid', spec: smallFile(name) };
  });
}

/** How requests ended, counted: the statuses, the cuts, and the connection errors by kind. */
export class OutcomeCounts {
  readonly byStatus = new Map<number, number>();
  cut = 0;
  /** Valid uploads whose connection failed, or that got no answer: must stay 0. */
  validConnectionErrors = 0;
  /** Valid uploads answered with anything but 200. */
  validNot200 = 0;
  /** Refused or oversize uploads whose connection was reset before their answer arrived. */
  resetBeforeAnswer = 0;
  readonly examples: string[] = [];

  add(kind: RequestKind, result: UploadResult): void {
    if (result.status !== 0) this.byStatus.set(result.status, (this.byStatus.get(result.status) ?? 0) + 1);
    if (kind === 'cut') {
      if (result.cut) this.cut++;
      return;
    }
    if (kind === 'valid' && (result.status === 0 || result.error)) this.#note(() => this.validConnectionErrors++, kind, result);
    else if (kind === 'valid' && result.status !== 200) this.#note(() => this.validNot200++, kind, result);
    else if (result.status === 0) this.#note(() => this.resetBeforeAnswer++, kind, result);
  }

  #note(count: () => void, kind: RequestKind, result: UploadResult): void {
    count();
    if (this.examples.length < 5) this.examples.push([`${kind}:`, result.status || '', result.error ?? '', result.body.slice(0, 120)].filter(Boolean).join(' '));
  }

  status(code: number): number {
    return this.byStatus.get(code) ?? 0;
  }

  describe(): string {
    const statuses = [...this.byStatus].sort(([a], [b]) => a - b).map(([code, n]) => `${n} x ${code}`);
    return [...statuses, `${this.cut} cut by the client`, `${this.resetBeforeAnswer} refused/oversize reset before the answer`].join(', ');
  }
}
