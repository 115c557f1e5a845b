import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionCounts } from './connection-cap.ts';

/** What an upload ended as: `ok`, or the DomainError code it failed with (`INTERNAL` for a bug, `CLIENT_GONE`). */
export type UploadOutcome = string;

/**
 * attache's Prometheus metrics, in a registry of their own: several apps in one process (tests)
 * must not share counters, and prom-client's global registry refuses a metric registered twice.
 */
export class UploadMetrics {
  readonly registry = new Registry();
  readonly #uploads: Counter<'outcome' | 'type'>;
  readonly #bytesStored: Counter;
  readonly #duration: Histogram<'outcome'>;
  readonly #inFlight: Gauge;
  readonly #storageErrors: Counter;
  readonly #scans: Counter<'verdict'>;
  readonly #previews: Counter<'outcome'>;
  readonly #dependencyUp: Gauge<'dependency'>;
  readonly #limits: Counter<'counted'>;
  readonly #limitsShared: Gauge;

  constructor(labels: { driver: string }) {
    this.registry.setDefaultLabels({ driver: labels.driver });
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.#uploads = new Counter({
      name: 'attache_uploads_total',
      help: 'Upload requests by outcome (ok or error code) and stored MIME type (none when nothing was stored).',
      labelNames: ['outcome', 'type'],
      registers,
    });
    this.#bytesStored = new Counter({ name: 'attache_uploaded_bytes_total', help: 'Bytes of attachments stored.', registers });
    this.#duration = new Histogram({
      name: 'attache_upload_duration_seconds',
      help: 'Time from an upload request to its answer, by outcome.',
      labelNames: ['outcome'],
      // Uploads are bounded by MAX_FILE_SIZE and the client's bandwidth: from tens of ms to minutes.
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
      registers,
    });
    this.#inFlight = new Gauge({ name: 'attache_uploads_in_flight', help: 'Upload requests being handled now.', registers });
    this.#storageErrors = new Counter({
      name: 'attache_storage_errors_total',
      help: 'Requests that failed because the object store could not be reached (uploads, downloads, readiness checks).',
      registers,
    });
    this.#scans = new Counter({
      name: 'attache_malware_scans_total',
      help: 'Malware scans by verdict: clean, infected, too_large (refused unscanned), unavailable (refused: scanner down), not_scanned (taken: scanner down, MALWARE_SCAN_ON_ERROR=accept).',
      labelNames: ['verdict'],
      registers,
    });
    this.#previews = new Counter({
      name: 'attache_previews_total',
      help: 'Image previews by outcome: made, or why none was (too-many-pixels, undecodable, timed-out, busy).',
      labelNames: ['outcome'],
      registers,
    });
    this.#dependencyUp = new Gauge({
      name: 'attache_dependency_up',
      help: 'Whether a dependency answered the last readiness check (1) or not (0): storage, auth (the token backend), scanner.',
      labelNames: ['dependency'],
      registers,
    });
    this.#limits = new Counter({
      name: 'attache_limit_checks_total',
      help: 'Uploads whose limits were checked, by where they were counted: primary (Valkey with REDIS_URL, else this process), fallback (this process alone: Valkey could not answer, RATE_LIMIT_ON_ERROR=allow), unavailable (refused: RATE_LIMIT_ON_ERROR=reject).',
      labelNames: ['counted'],
      registers,
    });
    this.#limitsShared = new Gauge({
      name: 'attache_limit_counters_up',
      help: '1 while the counters behind the limits (Valkey with REDIS_URL) answer, 0 once an upload or a readiness check found them unable to; 0 without limits.',
      registers,
    });
  }

  /** Exposes the HTTP server's connections: open now, and refused over MAX_CONNECTIONS, read at each scrape. */
  watchConnections(counts: ConnectionCounts): void {
    const registers = [this.registry];
    new Gauge({
      name: 'attache_connections_open',
      help: 'HTTP connections open now (at most MAX_CONNECTIONS).',
      registers,
      collect() {
        this.set(counts.open);
      },
    });
    new Counter({
      name: 'attache_connections_refused_total',
      help: 'Connections answered 503 and closed because MAX_CONNECTIONS were open.',
      registers,
      collect() {
        this.reset();
        this.inc(counts.refused);
      },
    });
  }

  /** Records what the last /readyz found of `dependency`. */
  dependencyUp(dependency: string, up: boolean): void {
    this.#dependencyUp.set({ dependency }, up ? 1 : 0);
  }

  /** Counts where an upload's limits were counted. */
  limitsCounted(where: 'primary' | 'fallback' | 'unavailable'): void {
    this.#limits.inc({ counted: where });
    this.#limitsShared.set(where === 'primary' ? 1 : 0);
  }

  /** Whether the counters behind the limits answered the last readiness check. */
  limitsShared(up: boolean): void {
    this.#limitsShared.set(up ? 1 : 0);
  }

  /** Counts a malware scan's verdict: clean, infected, not_scanned (taken unscanned), too_large, unavailable (refused). */
  scanned(verdict: 'clean' | 'infected' | 'not_scanned' | 'too_large' | 'unavailable'): void {
    this.#scans.inc({ verdict });
  }

  /** Counts an image's preview: made, or why not (too-many-pixels, undecodable, timed-out, busy). */
  previewed(outcome: string): void {
    this.#previews.inc({ outcome });
  }

  /** Call when an upload request starts; call the returned function once when it has been answered. */
  uploadStarted(): (outcome: UploadOutcome, stored?: { type: string; bytes: number }) => void {
    this.#inFlight.inc();
    const stopTimer = this.#duration.startTimer();
    let ended = false;
    return (outcome, stored) => {
      if (ended) return;
      ended = true;
      this.#inFlight.dec();
      stopTimer({ outcome });
      this.#uploads.inc({ outcome, type: stored?.type ?? 'none' });
      if (stored) this.#bytesStored.inc(stored.bytes);
    };
  }

  storageError(): void {
    this.#storageErrors.inc();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  exposition(): Promise<string> {
    return this.registry.metrics();
  }
}
