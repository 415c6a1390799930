// A second jest file (a fresh module registry loads the addon again): the official client
// against the emulator, as a user's existing test suite would use it.
const { startEmulator } = require('../../index.js')
const { CommunicationIdentityClient } = require('@azure/communication-identity')

let emulator
beforeAll(async () => {
  emulator = await startEmulator()
})
afterAll(async () => {
  await emulator.close()
})

test('the official client works against the emulator under jest', async () => {
  const client = new CommunicationIdentityClient(emulator.connectionString, { allowInsecureConnection: true })
  const user = await client.createUser()
  const { token } = await client.getToken(user, ['chat'], { tokenExpiresInMinutes: 60 })
  expect(await emulator.verifyToken(token)).toEqual({ valid: true })
  await expect(client.getToken(user, [])).rejects.toMatchObject({
    statusCode: 400,
    message: 'Invalid scopes - Scopes field is required.',
  })
})
