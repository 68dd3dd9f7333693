/**
 * Content types of stored media: which value S3 gets as the object's Content-Type, and the key's
 * file extension.
 */

// RFC 9110 section 8.3.1: media-type = type "/" subtype parameters; type, subtype and parameter
// names are tokens (section 5.6.2), parameter values tokens or quoted strings, ASCII only.
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t !#-\\[\\]-~]|\\\\[\\t !-~])*"';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|${QUOTED}))*$`);
/** Longest content type passed on to S3. */
const MAX_CONTENT_TYPE_LENGTH = 256;

/**
 * The value if it is a valid HTTP media type (`type/subtype`, optional parameters: tokens and
 * quoted strings, no CR/LF, no non-ASCII), else undefined. S3 stores it as the object's
 * Content-Type header, and refuses (or the SDK fails on) anything else on every attempt.
 */
export function validContentType(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_CONTENT_TYPE_LENGTH) return undefined;
  return MEDIA_TYPE.test(value) ? value : undefined;
}

/** The stored object's Content-Type: the host's if valid, else the event's if valid, else `application/octet-stream`. */
export function storedContentType(served: string | null | undefined, declared: unknown): string {
  return validContentType(served) ?? validContentType(declared) ?? 'application/octet-stream';
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/heic': 'heic',
  'image/gif': 'gif',
  'video/mp4': 'mp4',
  'video/webm': 'webm',
  'video/quicktime': 'mov',
  'application/pdf': 'pdf',
};

/** A file extension for a content type; `bin` when nothing sensible can be derived. */
export function extensionFor(contentType: string): string {
  const type = contentType.split(';')[0].trim().toLowerCase();
  const known = EXTENSIONS[type];
  if (known) return known;
  const subtype = type.split('/')[1] ?? '';
  return /^[a-z0-9]{1,10}$/.test(subtype) ? subtype : 'bin';
}
