// Identifier helpers held to the official @azure/communication-common (the version the
// official identity client installs) on the raw-id vectors of docs/official-sdk.md §2.4.

import test from 'ava'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const ours = require('../index.js')
const common = require('@azure/communication-common')

const RAW_IDS = [
  '8:acs:00000000-0000-0000-0000-000000000000_00000000-0000-0000-0000-000000000000',
  '8:acs:resource_tenant_user',
  '8:acs:a_b_c_d',
  '8:dod-acs:r_t_u',
  '8:gcch-acs:r_t_u',
  '8:gcch-acs:x',
  '8:spool:abc',
  '8:acs:',
  '8:orgid:45ab',
  '8:dod:45ab',
  '8:gcch:45ab',
  '8:teamsvisitor:45ab',
  '28:orgid:app',
  '28:dod:app',
  '28:gcch:app',
  '28:ag08-global:app',
  '8:orgid:a:b',
  '8:acs',
  '8:ACS:x',
  '48:acs:x',
  'unknown',
  '',
  '4:+14255550123',
  '4:anonymous',
  '4:+14255550123_abc',
  '4:+14255550123_',
  '4:_x',
  '4:14255550123',
]

for (const rawId of RAW_IDS) {
  test(`createIdentifierFromRawId(${JSON.stringify(rawId)}) equals the official`, (t) => {
    const mine = ours.createIdentifierFromRawId(rawId)
    const theirs = common.createIdentifierFromRawId(rawId)
    t.deepEqual(mine, theirs)
    t.deepEqual(Object.keys(mine), Object.keys(theirs), 'same keys in the same order')
    t.is(ours.getIdentifierRawId(mine), common.getIdentifierRawId(theirs))
    t.is(ours.getIdentifierRawId(mine), rawId, 'round trip')
  })
}

const IDENTIFIERS = [
  { communicationUserId: '8:acs:x' },
  { communicationUserId: 'x', phoneNumber: '+1' },
  { phoneNumber: '+14255550123' },
  { phoneNumber: '14255550123' },
  { phoneNumber: '+1', rawId: '4:custom' },
  { microsoftTeamsUserId: 'u' },
  { microsoftTeamsUserId: 'u', isAnonymous: true },
  { microsoftTeamsUserId: 'u', cloud: 'dod' },
  { microsoftTeamsUserId: 'u', cloud: 'gcch' },
  { microsoftTeamsUserId: 'u', cloud: 'public', rawId: '8:orgid:other' },
  { teamsAppId: 'a' },
  { teamsAppId: 'a', cloud: 'gcch' },
  { teamsAppId: 'a', cloud: 'dod' },
  { userId: 'u', tenantId: 't', resourceId: 'r' },
  { userId: 'u', tenantId: 't', resourceId: 'r', cloud: 'dod' },
  { userId: 'u', tenantId: 't', resourceId: 'r', cloud: 'gcch' },
  { id: '48:whatever' },
  { foo: 'nonsense' },
]

for (const identifier of IDENTIFIERS) {
  test(`getIdentifierKind/getIdentifierRawId(${JSON.stringify(identifier)}) equal the official`, (t) => {
    t.deepEqual(ours.getIdentifierKind(identifier), common.getIdentifierKind(identifier))
    t.is(ours.getIdentifierRawId(identifier), common.getIdentifierRawId(identifier))
    t.is(ours.isCommunicationUserIdentifier(identifier), common.isCommunicationUserIdentifier(identifier))
  })
}

test('createIdentifierFromRawId refuses what is not a string', (t) => {
  for (const bad of [undefined, null, 42, {}]) {
    const error = t.throws(() => ours.createIdentifierFromRawId(bad))
    t.true(error instanceof TypeError)
    t.regex(error.message, /rawId must be a string/)
  }
})
