// A loopback HTTP server that records every request and answers like the ACS Identity
// service, so the requests of our client and of the official client can be compared.

import http from 'node:http'

const TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.c2ln'

export function defaultResponder(req, body) {
  const path = req.url.split('?')[0]
  if (req.method === 'POST' && path === '/identities') {
    const parsed = body ? JSON.parse(body) : {}
    const identity = { id: '8:acs:resource_00000000-0000-0000-0000-000000000001' }
    const json = parsed.createTokenWithScopes?.length
      ? { identity, accessToken: { token: TOKEN, expiresOn: '2023-10-19T15:34:16.1445357+00:00' } }
      : { identity }
    return { status: 201, body: JSON.stringify(json) }
  }
  if (path.endsWith('/:issueAccessToken') || path === '/teamsUser/:exchangeAccessToken') {
    return { status: 200, body: JSON.stringify({ token: TOKEN, expiresOn: '2023-10-19T15:34:16.1445357+00:00' }) }
  }
  if (path.endsWith('/:revokeAccessTokens') || req.method === 'DELETE') return { status: 204 }
  return { status: 404, body: JSON.stringify({ error: { code: 'NotFound', message: 'no such route' } }) }
}

/** Starts the server; `respond(req, body)` may override the answer. */
export async function startCaptureServer(respond = defaultResponder) {
  const requests = []
  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      requests.push({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, body })
      const answer = respond(req, body) ?? defaultResponder(req, body)
      if (answer.destroy) return req.socket.destroy()
      const headers = { ...(answer.headers ?? {}) }
      if (answer.body !== undefined) headers['content-type'] ??= 'application/json; charset=utf-8'
      res.writeHead(answer.status, headers)
      res.end(answer.body)
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(resolve)),
  }
}

export { TOKEN }
