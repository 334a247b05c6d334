-- Which turning-on of the client credentials grant a client's own tokens belong to: a random
-- value set each time the grant is turned on from off (and when a client is created with it
-- on). A token carries it in the mark of its `jti`, beside the secret's, so turning the grant
-- off and on again ends the tokens issued before, even those issued within the second that
-- `client_credentials_since` starts from. NULL for a client whose grant has not been turned
-- on since this column came: its tokens' marks are of the secret alone, as before.
ALTER TABLE oidc_clients ADD COLUMN client_credentials_epoch TEXT;
