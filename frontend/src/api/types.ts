/**
 * The shapes the dashboard reads and sends: the server's schemas of the same names in
 * its OpenAPI document (schema.d.ts is generated from it by `npm run gen:api`).
 */
import type { components } from './schema'

type Schemas = components['schemas']

export type Status = Schemas['Status']
export type Role = Schemas['Role']
export type Check = Schemas['CheckOut']
export type CheckInput = Schemas['CheckIn']
export type Ping = Schemas['PingOut']
export type HistoryRun = Schemas['RunOut']
export type Anomaly = Schemas['AnomalyOut']
export type Flip = Schemas['FlipOut']
export type Channel = Schemas['ChannelOut']
export type ChannelInput = Schemas['ChannelIn']
export type ChannelChange = Schemas['ChannelChange']
export type ChannelKind = ChannelInput['kind']
export type AssignmentSettings = Schemas['AssignmentIn']
export type AssignedChannel = Schemas['AssignedChannel']
export type Notification = Schemas['NotificationOut']
export type MaintenanceWindow = Schemas['WindowOut']
export type WindowInput = Schemas['WindowIn']
export type User = Schemas['UserOut']
export type SignedIn = Schemas['SignedIn']
export type Account = Schemas['AccountOut']
export type TotpSetup = Schemas['TotpSetupOut']
export type Project = Schemas['ProjectOut']
export type Member = Schemas['MemberOut']
export type ApiKey = Schemas['ApiKeyOut']
export type NewApiKey = Schemas['NewApiKey']
export type PingKey = Schemas['PingKeyOut']
export type CheckRule = Schemas['CheckRuleOut']
export type CheckRuleSetting = Schemas['RuleSettingOut']
