// Package product names the application and the feature on whose behalf a
// request is made, and formats that name as a User-Agent product token.
//
// An [App] is an application identity: a name and a semantic version. A
// [Product] is one feature of an App, or the App itself ([App.AsProduct]).
// Its [Product.UserAgent] form is "<app>_<feature>/<version>", for example
// "acme_crew_gen/0.1.0", or "<app>/<version>" for the application itself.
// Because application names never contain an underscore, [ParseUserAgent]
// splits such a token back at its first underscore, so features that contain
// underscores round-trip.
//
// [NewContext] and [FromContext] carry the product of the current operation
// in a [context.Context]. Values of App, Product and [Extra] are immutable,
// comparable and safe for concurrent use. Their zero values mean "none".
//
// For places that are not HTTP, [Product.PostgresApplicationName] fits the
// token into a Postgres application_name, and [Product.UserAgentWithExtras]
// appends "key/value" extras such as "partner/acme" in the form the
// Databricks SDK uses.
package product
