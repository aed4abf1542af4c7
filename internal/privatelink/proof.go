package privatelink

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

var (
	awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)
	vpceID       = regexp.MustCompile(`^vpce-[0-9a-f]{1,64}$`)
	// azurePE is the resource ID of an Azure private endpoint.
	azurePE = regexp.MustCompile(`(?i)^/subscriptions/[0-9a-z-]{1,64}/resourceGroups/[-\w._()]{1,90}/providers/Microsoft\.Network/privateEndpoints/[-\w._]{1,80}$`)
)

// federationToken is the output of `aws sts get-federation-token`.
type federationToken struct {
	Credentials struct {
		AccessKeyID     string `json:"AccessKeyId"`
		SecretAccessKey string `json:"SecretAccessKey"`
		SessionToken    string `json:"SessionToken"`
		Expiration      string `json:"Expiration"`
	} `json:"Credentials"`
	FederatedUser struct {
		FederatedUserID string `json:"FederatedUserId"`
		Arn             string `json:"Arn"`
	} `json:"FederatedUser"`
}

// parseFederationToken decodes the token argument. Trailing commas before a closing
// brace or bracket (as in Snowflake's documented example) are tolerated.
func parseFederationToken(token string) (*federationToken, error) {
	var t federationToken
	if err := json.Unmarshal([]byte(stripTrailingCommas(token)), &t); err != nil {
		return nil, errors.New("the token is not the JSON output of aws sts get-federation-token")
	}
	c := t.Credentials
	if c.AccessKeyID == "" || c.SecretAccessKey == "" || c.SessionToken == "" {
		return nil, errors.New("the token has no temporary credentials (Credentials.AccessKeyId, SecretAccessKey, SessionToken)")
	}
	return &t, nil
}

// stripTrailingCommas removes commas that directly precede '}' or ']' (outside
// strings).
func stripTrailingCommas(s string) string {
	var b strings.Builder
	inStr, esc := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if inStr {
			b.WriteByte(c)
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		if c == '"' {
			inStr = true
		}
		if c == ',' {
			j := i + 1
			for j < len(s) && strings.IndexByte(" \t\r\n", s[j]) >= 0 {
				j++
			}
			if j < len(s) && (s[j] == '}' || s[j] == ']') {
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// AWSProver proves control of AWS resources with caller-supplied temporary
// credentials, using aws-sdk-go-v2's default configuration chain (so
// AWS_ENDPOINT_URL_EC2, AWS_ENDPOINT_URL_STS and AWS_REGION work as usual). The
// caller's credentials replace any configured ones.
type AWSProver struct {
	// Region is used when the configuration chain names none. Default "us-west-2".
	Region string
	// HTTPClient, when set, is used for the AWS calls.
	HTTPClient *http.Client
}

func (p *AWSProver) config(ctx context.Context, t *federationToken) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(
			t.Credentials.AccessKeyID, t.Credentials.SecretAccessKey, t.Credentials.SessionToken)),
		config.WithRetryMaxAttempts(2),
	}
	if p.HTTPClient != nil {
		opts = append(opts, config.WithHTTPClient(p.HTTPClient))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("privatelink: AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = p.Region
		if cfg.Region == "" {
			cfg.Region = "us-west-2"
		}
	}
	return cfg, nil
}

// ProveVPCEndpoint checks that the federated credentials in token can describe VPC
// endpoint endpointID (ec2:DescribeVpcEndpoints) and that the endpoint is owned by
// AWS account accountID.
func (p *AWSProver) ProveVPCEndpoint(ctx context.Context, endpointID, accountID, token string) error {
	t, err := parseFederationToken(token)
	if err != nil {
		return proofError(err.Error())
	}
	cfg, err := p.config(ctx, t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := ec2.NewFromConfig(cfg).DescribeVpcEndpoints(ctx, &ec2.DescribeVpcEndpointsInput{VpcEndpointIds: []string{endpointID}})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			if strings.HasPrefix(ae.ErrorCode(), "InvalidVpcEndpointId") {
				return goneError(fmt.Sprintf("VPC endpoint %s was not found.", endpointID))
			}
			return proofError(fmt.Sprintf("The token cannot describe VPC endpoint %s (AWS error %s).", endpointID, ae.ErrorCode()))
		}
		return fmt.Errorf("privatelink: DescribeVpcEndpoints: %w", err)
	}
	for _, ep := range out.VpcEndpoints {
		if aws.ToString(ep.VpcEndpointId) != endpointID {
			continue
		}
		switch strings.ToLower(string(ep.State)) {
		case "deleting", "deleted", "failed", "rejected", "expired":
			return goneError(fmt.Sprintf("VPC endpoint %s was not found.", endpointID))
		}
		if aws.ToString(ep.OwnerId) != accountID {
			return proofError(fmt.Sprintf("VPC endpoint %s is not owned by AWS account %s.", endpointID, accountID))
		}
		return nil
	}
	return goneError(fmt.Sprintf("VPC endpoint %s was not found.", endpointID))
}

// ProveAccount checks that the federated credentials in token belong to AWS account
// accountID (sts:GetCallerIdentity, which needs no permission).
func (p *AWSProver) ProveAccount(ctx context.Context, accountID, token string) error {
	t, err := parseFederationToken(token)
	if err != nil {
		return proofError(err.Error())
	}
	cfg, err := p.config(ctx, t)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		var ae smithy.APIError
		if errors.As(err, &ae) {
			return proofError(fmt.Sprintf("The token was refused by AWS (%s).", ae.ErrorCode()))
		}
		return fmt.Errorf("privatelink: GetCallerIdentity: %w", err)
	}
	if aws.ToString(out.Account) != accountID {
		return proofError(fmt.Sprintf("The token does not belong to AWS account %s.", accountID))
	}
	return nil
}

// AzureProver proves control of an Azure private endpoint: the caller's ARM access
// token must be able to read the private-endpoint resource
// (Microsoft.Network/privateEndpoints/read).
type AzureProver struct {
	// BaseURL is the Azure Resource Manager endpoint. Default https://management.azure.com.
	BaseURL string
	// HTTPClient, when set, is used for the calls (default: 30 s timeout).
	HTTPClient *http.Client
}

// azureAPIVersion is the Microsoft.Network API version used to read endpoints.
const azureAPIVersion = "2023-09-01"

// azureToken extracts the bearer token: either a raw JWT or the JSON output of
// `az account get-access-token` ({"accessToken": …}).
func azureToken(token string) (string, error) {
	token = strings.TrimSpace(token)
	if strings.HasPrefix(token, "{") {
		var v struct {
			AccessToken string `json:"accessToken"`
		}
		if err := json.Unmarshal([]byte(stripTrailingCommas(token)), &v); err != nil || v.AccessToken == "" {
			return "", errors.New("the token is neither an access token nor the output of az account get-access-token")
		}
		token = v.AccessToken
	}
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return "", errors.New("the token is not an Azure access token")
	}
	return token, nil
}

// ProvePrivateEndpoint checks that token can read the private endpoint resourceID.
// The LinkID must be a 32-bit unsigned decimal; matching it to the endpoint needs the
// provider side's view of its Private Link service, which firn does not have.
func (p *AzureProver) ProvePrivateEndpoint(ctx context.Context, resourceID, token string) error {
	if !azurePE.MatchString(resourceID) {
		return proofError(fmt.Sprintf("'%s' is not an Azure private endpoint resource ID.", resourceID))
	}
	bearer, err := azureToken(token)
	if err != nil {
		return proofError(err.Error())
	}
	base := p.BaseURL
	if base == "" {
		base = "https://management.azure.com"
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + resourceID)
	if err != nil {
		return fmt.Errorf("privatelink: ARM URL: %w", err)
	}
	u.RawQuery = url.Values{"api-version": {azureAPIVersion}}.Encode()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("privatelink: ARM request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/json")
	c := p.HTTPClient
	if c == nil {
		c = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("privatelink: ARM: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("privatelink: ARM: %w", err)
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return goneError(fmt.Sprintf("Azure private endpoint %s was not found.", resourceID))
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return proofError(fmt.Sprintf("The token cannot read Azure private endpoint %s (HTTP %d).", resourceID, resp.StatusCode))
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("privatelink: ARM answered HTTP %d", resp.StatusCode)
	}
	var pe struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &pe); err != nil {
		return fmt.Errorf("privatelink: ARM response: %w", err)
	}
	if !strings.EqualFold(pe.ID, resourceID) || !strings.EqualFold(pe.Type, "Microsoft.Network/privateEndpoints") {
		return proofError(fmt.Sprintf("'%s' is not an Azure private endpoint.", resourceID))
	}
	return nil
}

// validLinkID reports whether s is an Azure LinkID (a 32-bit unsigned decimal).
func validLinkID(s string) bool {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 32)
	return err == nil
}
