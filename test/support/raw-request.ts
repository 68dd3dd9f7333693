import { request } from 'node:http';

/**
 * One HTTP request to 127.0.0.1 with exact headers, as a tunnel's agent makes it (fetch does not let
 * a caller choose Host, send Forwarded headers unchanged, or repeat a header: an array is sent as one line per value).
 */
export function sendRaw(
  port: number,
  options: { path: string; method?: string; headers: Record<string, string | string[]>; body?: Buffer },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: options.path, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}
