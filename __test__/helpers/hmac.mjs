// An independent implementation of the ACS HMAC-SHA256 check with node:crypto, written from
// docs/official-sdk.md §3.1, to verify captured requests without the project's Rust code.

import crypto from 'node:crypto'

export function contentHash(body) {
  return crypto.createHash('sha256').update(body ?? '', 'utf8').digest('base64')
}

/** Whether a captured request carries a valid signature for `accessKey`. */
export function verifyCapturedRequest(request, accessKey) {
  const url = new URL(request.url, `http://${request.headers.host}`)
  const query = url.searchParams.toString()
  const pathAndQuery = query ? `${url.pathname}?${query}` : url.pathname
  const date = request.headers['x-ms-date']
  const hash = request.headers['x-ms-content-sha256']
  if (hash !== contentHash(request.body)) return { ok: false, why: 'content hash' }
  const toSign = `${request.method}\n${pathAndQuery}\n${date};${request.headers.host};${hash}`
  const signature = crypto.createHmac('sha256', Buffer.from(accessKey, 'base64')).update(toSign, 'utf8').digest('base64')
  const expected = `HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=${signature}`
  return { ok: request.headers.authorization === expected, why: 'signature' }
}
