// The emulator and client inside jest, as users run them: module registry resets between
// files, test globals from another realm (instanceof Error, rejects.toThrow(TypeError)).
const { CommunicationIdentityClient, startEmulator, isRestError } = require('../../index.js')
let emulator
beforeAll(async () => { emulator = await startEmulator() })
afterAll(async () => { await emulator.close() })
test('quickstart flow under jest', async () => {
  const client = new CommunicationIdentityClient(emulator.connectionString)
  const { user, token, expiresOn } = await client.createUserAndToken(['voip'])
  expect(expiresOn).toBeInstanceOf(Date)
  expect(typeof token).toBe('string')
  await client.revokeTokens(user)
  expect(await emulator.verifyToken(token)).toEqual({ valid: false, reason: 'revoked' })
  await client.deleteUser(user)
  const error = await client.getToken(user, ['voip']).catch((e) => e)
  expect(isRestError(error)).toBe(true)
  expect(error).toBeInstanceOf(Error)
  expect(error.statusCode).toBe(404)
  await expect(client.getToken({}, ['voip'])).rejects.toThrow(TypeError)
})
