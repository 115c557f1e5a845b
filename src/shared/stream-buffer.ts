/**
 * How many bytes each stage of an upload's stream may buffer. Node's default (16 KiB) makes a
 * large file cross the event loop thousands of times per stage; a few hundred KiB per stage
 * keeps the pipeline busy while memory per upload stays small and bounded.
 */
export const STREAM_BUFFER_BYTES = 256 * 1024;
