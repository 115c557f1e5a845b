/** What attache answered one of Uppy's calls: its status and JSON body. */
export interface UppyAnswer {
  readonly status: number;
  readonly json: any;
}

/** Uppy's Companion client, as `@uppy/companion-client` 5 sends its requests to `endpoint` (attache's `/v1/chat/upload/uppy`). */
export function uppyClient(endpoint: string, token: string | undefined) {
  return async (method: string, path: string, body?: unknown): Promise<UppyAnswer> => {
    const response = await fetch(`${endpoint}/${path}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
        ...(token !== undefined && { Authorization: `Token ${token}` }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: response.status, json: await response.json() };
  };
}
