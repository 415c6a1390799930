// Entra-shaped access tokens for the Teams exchange tests (unsigned: the emulator checks the
// claims, as a test stand-in for Entra ID).

export const APP_ID = '11111111-2222-3333-4444-555555555555'
export const USER_OBJECT_ID = '66666666-7777-8888-9999-000000000000'

export function entraToken({ appid = APP_ID, oid = USER_OBJECT_ID, exp = Math.floor(Date.now() / 1000) + 3600 } = {}) {
  const part = (value) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part({ aud: 'https://auth.msft.communication.azure.com', appid, oid, exp })}.c2ln`
}
