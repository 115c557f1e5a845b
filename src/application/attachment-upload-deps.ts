import type { ImagePreviewStep } from './image-preview-step.ts';
import type { MalwareScanStep } from './malware-scan-step.ts';
import type { MetadataStripper } from './ports/metadata-stripper.ts';
import type { MimeDetector } from './ports/mime-detector.ts';
import type { ObjectStore } from './ports/object-store.ts';

// What every upload is given by UploadAttachment: in a file of its own because both halves of an
// upload read it, the receiving of its bytes (attachment-receiving.ts) and its completion (AttachmentUpload).

export interface AttachmentUploadDeps {
  readonly store: ObjectStore;
  readonly mime: MimeDetector;
  readonly maxFileSize: number;
  readonly newUploadId: () => string;
  /** Largest file held in memory while its folder is unknown; larger ones get a provisional key. */
  readonly holdBytes: number;
  /** Scans every file as it streams to storage. */
  readonly scan?: MalwareScanStep | undefined;
  /** Makes a preview of every image as it streams to storage. */
  readonly preview?: ImagePreviewStep | undefined;
  /** Strips metadata from the files it knows before they are stored. */
  readonly stripper?: MetadataStripper | undefined;
}
