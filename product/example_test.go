package product_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/httpmeter/httpmeter/product"
)

func ExampleNewApp() {
	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}

	crewGen, err := app.Product("crew_gen")
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(app.AsProduct().UserAgent())
	fmt.Println(crewGen.UserAgent())

	_, err = product.NewApp("acme_corp", "0.1.0")
	fmt.Println(err)
	// Output:
	// acme/0.1.0
	// acme_crew_gen/0.1.0
	// product: application name "acme_corp" contains '_', which separates the application from the feature: use '-' instead
}

func ExampleParseUserAgent() {
	header := "acme_crew_gen/0.1.0 databricks-sdk-go/0.100.0 go/1.26.8"

	token := strings.Fields(header)[0]
	p, err := product.ParseUserAgent(token)
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(p.App().Name(), p.Feature(), p.App().Version())

	_, err = product.ParseUserAgent("acme_mcp/latest")
	fmt.Println(err)
	// Output:
	// acme crew_gen 0.1.0
	// product: User-Agent token "acme_mcp/latest": version "latest" is not a semantic version: use MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD] such as 0.1.0 or 1.2.0-rc.1
}

func ExampleNewContext() {
	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	mcp, err := app.Product("mcp")
	if err != nil {
		fmt.Println(err)
		return
	}

	ctx := product.NewContext(context.Background(), mcp)
	if p, ok := product.FromContext(ctx); ok {
		fmt.Println(p.UserAgent())
	}

	// A zero Product hides the outer one, for example for telemetry traffic.
	cleared := product.NewContext(ctx, product.Product{})
	_, ok := product.FromContext(cleared)
	fmt.Println(ok)
	// Output:
	// acme_mcp/0.1.0
	// false
}

func ExampleProduct_UserAgentWithExtras() {
	app, err := product.NewApp("acme", "0.1.0")
	if err != nil {
		fmt.Println(err)
		return
	}
	partner, err := product.NewPartner("globex")
	if err != nil {
		fmt.Println(err)
		return
	}
	runtime, err := product.NewExtra("runtime", "15.4")
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(app.AsProduct().UserAgentWithExtras(partner, runtime))

	_, err = product.NewExtra("partner", "globex inc")
	fmt.Println(err)
	// Output:
	// acme/0.1.0 partner/globex runtime/15.4
	// product: extra "partner" value "globex inc" contains the invalid character ' ' at byte 6: use only letters, digits and _ . + -
}

func ExampleProduct_PostgresApplicationName() {
	app, err := product.NewApp("acme", "1.4.0+build.20261204.sha.2e014739024a")
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := app.Product("nightly_usage_rollup_for_workspace_admins")
	if err != nil {
		fmt.Println(err)
		return
	}

	fmt.Println(p.UserAgent())
	fmt.Println(p.PostgresApplicationName())
	// Output:
	// acme_nightly_usage_rollup_for_workspace_admins/1.4.0+build.20261204.sha.2e014739024a
	// acme_nightly_usage_rollup_for_workspace_admins/1.4.0
}
