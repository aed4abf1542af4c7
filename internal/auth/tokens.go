package auth

// registerTokenAuthenticators registers the token-based authenticators: key-pair JWT
// (SNOWFLAKE_JWT), OAuth (OAUTH) and programmatic access tokens
// (PROGRAMMATIC_ACCESS_TOKEN). Each lives in its own file.
func (s *Service) registerTokenAuthenticators() {
	// jwt.go, oauth.go and pat.go add themselves here.
	s.Register("SNOWFLAKE_JWT", NewJWT(s.now, s.cfg.JWTClockSkew, s.cfg.Organization))
	s.Register("OAUTH", NewOAuth(s.now))
	s.registerPAT()
}
