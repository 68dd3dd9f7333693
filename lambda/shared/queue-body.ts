/**
 * How a verified body travels through SQS. SQS message bodies may hold only
 * `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF`; a body with other characters
 * is refused (InvalidMessageContents) or has them replaced by U+FFFD, depending on the API version
 * (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
 * Valid JSON can carry U+FFFE and U+FFFF raw inside its strings, and refusing it would lose it
 * (docs/reference.md, "A 4xx is never retried"), so such a body is sent base64-encoded (its UTF-8
 * bytes) with {@link BODY_ENCODING_ATTRIBUTE}
 * set to `base64`, and the processor decodes it before anything else: the archive stays byte for
 * byte what FaceSign signed. Every other body is sent as it is. No imports: both Lambdas use it.
 */

/** SQS message attribute naming how the message body is encoded; absent: the body is the text itself. */
export const BODY_ENCODING_ATTRIBUTE = 'bodyEncoding';
/** The only encoding used: base64 of the body's UTF-8 bytes. */
export const BASE64_BODY_ENCODING = 'base64';

// Any character outside the set SQS accepts (lone surrogates included, thanks to the u flag).
const NOT_SQS_SAFE = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** The message body to send for `rawBody`, and its encoding when it is not the text itself. */
export function encodeQueueBody(rawBody: string): { readonly messageBody: string; readonly encoding?: typeof BASE64_BODY_ENCODING } {
  if (!NOT_SQS_SAFE.test(rawBody)) return { messageBody: rawBody };
  return { messageBody: Buffer.from(rawBody, 'utf8').toString('base64'), encoding: BASE64_BODY_ENCODING };
}

/** The attributes of a received SQS message, as the Lambda event (`stringValue`) carries them. */
type ReceivedAttributes = Readonly<Record<string, { readonly stringValue?: string } | undefined>> | undefined;

/**
 * The signed body text of a received message. Throws on an encoding it does not know: a newer
 * verifier's message must not be processed as if it were the text.
 */
export function decodeQueueBody(messageBody: string, attributes: ReceivedAttributes): string {
  const encoding = attributes?.[BODY_ENCODING_ATTRIBUTE]?.stringValue;
  if (encoding === undefined) return messageBody;
  if (encoding === BASE64_BODY_ENCODING) return Buffer.from(messageBody, 'base64').toString('utf8');
  throw new Error(`the message body has the unknown ${BODY_ENCODING_ATTRIBUTE} "${encoding}"`);
}
