/**
 * Every failure attache knows about is a DomainError with a stable `code` (errors/domain-error.ts),
 * one file per concern under errors/; imported from here.
 */
export * from './errors/domain-error.ts';
export * from './errors/access-errors.ts';
export * from './errors/file-errors.ts';
export * from './errors/storage-errors.ts';
export * from './errors/upload-flow-errors.ts';
