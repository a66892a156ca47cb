import "server-only";
// SCIM 2.0 discovery (RFC 7644 §4, schemas per RFC 7643 §5–§7): what this service provider supports, so an
// identity provider configures itself from it rather than from guesses. It describes what service.ts really does:
// PATCH yes; filters only `attr eq "value"`; no bulk, sort, ETags or password changes.
import { SCHEMA } from "./service";

const DISCOVERY = {
  config: "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
  resourceType: "urn:ietf:params:scim:schemas:core:2.0:ResourceType",
  schema: "urn:ietf:params:scim:schemas:core:2.0:Schema",
} as const;

/** The largest page a list answers (service.ts `paging`). */
const MAX_RESULTS = 200;

export function serviceProviderConfig(base: string) {
  return {
    schemas: [DISCOVERY.config],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: false },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "Bearer token",
        description: "A per-tenant SCIM token, created by a tenant admin on the Members page and shown once.",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

const resourceTypes = (base: string) => [
  { schemas: [DISCOVERY.resourceType], id: "User", name: "User", endpoint: "/Users", description: "A member of the tenant, matched by e-mail", schema: SCHEMA.user, meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/User` } },
  { schemas: [DISCOVERY.resourceType], id: "Group", name: "Group", endpoint: "/Groups", description: "One of the tenant's roles; membership is the role", schema: SCHEMA.group, meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/Group` } },
];

type Attribute = { name: string; type: string; multiValued: boolean; required: boolean; mutability: string; returned: string; uniqueness: string; caseExact: boolean; description: string; subAttributes?: Attribute[] };
const attr = (name: string, type: string, description: string, o: Partial<Attribute> = {}): Attribute => ({
  name, type, description, multiValued: false, required: false, mutability: "readWrite", returned: "default", uniqueness: "none", caseExact: false, ...o,
});

const schemas = (base: string) => [
  {
    schemas: [DISCOVERY.schema],
    id: SCHEMA.user,
    name: "User",
    description: "A tenant member",
    attributes: [
      attr("userName", "string", "The person's e-mail address, which their sign-in must verify", { required: true, uniqueness: "server" }),
      attr("externalId", "string", "The identity provider's id for the person", { caseExact: true }),
      attr("displayName", "string", "The name shown in the console"),
      attr("name", "complex", "The person's name", { subAttributes: [attr("formatted", "string", "Full name"), attr("givenName", "string", "Given name"), attr("familyName", "string", "Family name")] }),
      attr("emails", "complex", "E-mail addresses; the primary one is the userName", { multiValued: true, subAttributes: [attr("value", "string", "Address"), attr("type", "string", "work, home…"), attr("primary", "boolean", "The primary address")] }),
      attr("active", "boolean", "false ends the person's access and open sessions at once; true restores their roles"),
      attr("groups", "complex", "The person's roles in the tenant", { multiValued: true, mutability: "readOnly", subAttributes: [attr("value", "string", "Role", { mutability: "readOnly" }), attr("display", "string", "Role", { mutability: "readOnly" })] }),
    ],
    meta: { resourceType: "Schema", location: `${base}/Schemas/${SCHEMA.user}` },
  },
  {
    schemas: [DISCOVERY.schema],
    id: SCHEMA.group,
    name: "Group",
    description: "A role in the tenant (tenant_admin, clinical_reviewer, senior_reviewer, migration_operator)",
    attributes: [
      attr("displayName", "string", "The role", { required: true, mutability: "readOnly", uniqueness: "server" }),
      attr("members", "complex", "The people holding the role", { multiValued: true, subAttributes: [attr("value", "string", "A User id", { mutability: "immutable" }), attr("display", "string", "The person's e-mail", { mutability: "readOnly" })] }),
    ],
    meta: { resourceType: "Schema", location: `${base}/Schemas/${SCHEMA.group}` },
  },
];

const list = (resources: unknown[]) => ({ schemas: [SCHEMA.list], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources });

export const listResourceTypes = (base: string) => list(resourceTypes(base));
export const listSchemas = (base: string) => list(schemas(base));
/** One resource type or schema by id, or null (the route answers a SCIM 404). */
export const findResourceType = (base: string, id: string) => resourceTypes(base).find((r) => r.id === id) ?? null;
export const findSchema = (base: string, id: string) => schemas(base).find((s) => s.id === id) ?? null;
