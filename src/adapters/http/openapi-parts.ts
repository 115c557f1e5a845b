/** Pieces every part of the OpenAPI document (openapi-document.ts and the *-paths.ts it merges) writes alike. */

/** A response whose body is JSON of `schema`. */
export function jsonResponse(description: string, schema: object) {
  return { description, content: { 'application/json': { schema } } } as const;
}

/** A reference to the components' schema `name`. */
export const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` }) as const;

/** What the upload endpoint refuses before a byte of the file is read, and so what every way in may answer at its start. */
export const refusedBeforeBytes = [ref('FileRequired'), ref('UnsupportedFileType'), ref('InvalidSessionId'), ref('InvalidFileName'), ref('InvalidUpload')];
