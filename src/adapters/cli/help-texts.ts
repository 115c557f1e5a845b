/** The `attache` command's help texts. */

export const MAIN_HELP = `Usage: attache <command> [options]

Commands:
  upload FILE...         upload files as chat attachments, print their URLs
  delete URL...          delete attachments (and their previews) by the URLs attache gave
  storage setup          install the bucket's lifecycle rules (expiry, RETENTION_DAYS)
  tokens create          make a new token and its AUTH_TOKENS_FILE entry
  direct-uploads expire  another name for "storage setup" (its rules include the one
                         removing abandoned direct and resumable uploads)

Run "attache <command> --help" for a command's options. Configuration comes from the same
environment variables as the service (STORAGE_DRIVER, LOCAL_STORAGE_DIR, S3_*, GCS_*,
PUBLIC_BASE_URL, MAX_FILE_SIZE, AUTH_TOKENS_FILE, NODE_ENV).

Exit codes: 0 done, 1 an upload failed or was refused, 2 bad arguments or configuration,
130 interrupted.
`;

export const UPLOAD_HELP = `Usage: attache upload FILE... [--session ID] [--token T] [--json]
       attache upload FILE... --as admin|store [--id N] [--session ID] [--json]

Uploads each FILE through the same use case as POST /v1/chat/upload/: same folders, same
allowed types, same MAX_FILE_SIZE, same storage. Files are uploaded one after another; a
file that fails is reported and the next one is tried, and the exit code is then 1. An
invalid token, an invalid session id or unavailable storage stops the run.

Options:
  --session ID   put the files in chat/session-ID/ (letters, digits, -, _)
  --token T      an admin or store token from AUTH_TOKENS_FILE (default: $ATTACHE_TOKEN)
  --as ROLE      upload as an admin or store without a token; refused when NODE_ENV=production
  --id N         with --as: the admin's or store's id (its folder is chat/ROLE-N/)
  --json         print one JSON object per file: {"file","url","type","size"} on success
                 (with "preview_url","width","height" for an image, when previews are on),
                 {"file","error","code","detail"} on failure (failures also go to stderr)
  -h, --help     show this help

Output: one line per stored file, "FILE: URL (TYPE)" (an image with a preview adds
", preview: URL"); errors on stderr as
"attache: FILE: <error> (<detail>)". On a terminal (not when stderr is piped or CI is set)
files of 1 MiB and more show a progress bar on stderr, and with STORAGE_DRIVER=local the
folder the files went to is named at the end (by default data/uploads in attache's own
folder, the one the service serves, wherever the command is run).
`;

export const DELETE_HELP = `Usage: attache delete URL... [--token T] [--json]
       attache delete URL... --as admin|store [--id N] [--json]

Deletes each attachment, and its preview, through the same use case as
DELETE /v1/chat/files/<key>: an admin may delete any attachment, a store only those it
uploaded. URL is any URL attache answered for the attachment (or its preview), or its key
(chat/...). An attachment that is not found or not yours is reported and the next one is
tried, and the exit code is then 1; unavailable storage stops the run.

Options:
  --token T      an admin or store token from AUTH_TOKENS_FILE (default: $ATTACHE_TOKEN)
  --as ROLE      act as an admin or store without a token; refused when NODE_ENV=production
  --id N         with --as: the admin's or store's id
  --json         print one JSON object per URL: {"url","deleted"} or {"url","error","code","detail"}
  -h, --help     show this help

Output: "URL: deleted" per attachment; errors on stderr as "attache: URL: <error> (<detail>)".
`;

export const TOKENS_CREATE_HELP = `Usage: attache tokens create --role admin|store [--id N] [--json]

Prints a new random token (line 1) and the entry that accepts it (line 2), to add to the
"tokens" array of AUTH_TOKENS_FILE. The entry holds only the token's SHA-256; the token itself
is shown once and stored nowhere. attache reads AUTH_TOKENS_FILE at start-up: restart it.

Options:
  --role ROLE    admin or store
  --id N         the admin's or store's id (letters, digits, -, _)
  --json         print {"token": "...", "entry": {...}} instead
  -h, --help     show this help
`;

export const TOKENS_USAGE = 'Usage: attache tokens create --role admin|store [--id N] [--json]\n\nRun "attache tokens create --help" for details.\n';

export const DIRECT_UPLOADS_EXPIRE_HELP = `Usage: attache direct-uploads expire [--dry-run] [--json]

Another name for "attache storage setup", kept for the scripts that use it: direct uploads sent
and never completed, and resumable uploads never finished, stay under staged/ until the staged
rule removes them, and that rule is one of the rules "storage setup" installs (s3, gcs) or
sweeps by (local; the service also sweeps by them every hour). Each upload_id can be completed
for 2 x DIRECT_UPLOAD_TTL after it was issued, a resumable upload takes requests for
RESUMABLE_UPLOAD_TTL after its creation: the rule's age is the longer of the two, in whole days.

Run "attache storage setup --help" for what it prints and its options.
`;
