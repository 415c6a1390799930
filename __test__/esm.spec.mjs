// The package works from ES modules with named imports, as the official one does.

import test from 'ava'
import { CommunicationIdentityClient, startEmulator, isRestError } from '../index.js'

test('named ESM imports work and the quickstart flow runs through them', async (t) => {
  const emulator = await startEmulator()
  t.teardown(() => emulator.close())
  const client = new CommunicationIdentityClient(emulator.connectionString)
  const { user, token } = await client.createUserAndToken(['voip'])
  t.truthy(token)
  await client.deleteUser(user)
  const error = await t.throwsAsync(client.getToken(user, ['voip']))
  t.true(isRestError(error))
  t.is(error.statusCode, 404)
})
