//! Email: SMTP through lettre (STARTTLS, implicit TLS, or plain for a local relay; AUTH when
//! configured; a text and an HTML part), or the server log during development.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use super::{Failure, Rendered};
use crate::config::{EmailConfig, SmtpSecurity};

pub enum EmailTransport {
    Log,
    Smtp(Box<Smtp>),
}

pub struct Smtp {
    mailer: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    reply_to: Option<Mailbox>,
}

/// A mailbox (`Name <address>` or a bare address), or why not.
pub fn mailbox(s: &str) -> Result<Mailbox, String> {
    s.parse::<Mailbox>().map_err(|e| format!("`{s}` is not a mailbox like `Name <no-reply@example.com>` ({e})"))
}

impl EmailTransport {
    pub fn smtp(cfg: &EmailConfig, timeout: Duration) -> anyhow::Result<EmailTransport> {
        let s = &cfg.smtp;
        let tls = || -> anyhow::Result<TlsParameters> {
            let mut params = TlsParameters::builder(s.host.clone());
            if !s.ca_file.is_empty() {
                let pem = std::fs::read(&s.ca_file)
                    .map_err(|e| anyhow::anyhow!("key `email.smtp.ca_file`: cannot read {}: {e}", s.ca_file))?;
                let cert = Certificate::from_pem(&pem)
                    .map_err(|e| anyhow::anyhow!("key `email.smtp.ca_file`: not a PEM certificate: {e}"))?;
                params = params.add_root_certificate(cert);
            }
            Ok(params.build()?)
        };
        let tls = match s.security {
            SmtpSecurity::Starttls => Tls::Required(tls()?),
            SmtpSecurity::Tls => Tls::Wrapper(tls()?),
            SmtpSecurity::None => Tls::None,
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host)
            .port(s.port)
            .tls(tls)
            .timeout(Some(timeout));
        if !s.username.is_empty() {
            builder = builder.credentials(Credentials::new(s.username.clone(), s.password.expose().to_owned()));
        }
        let from = mailbox(&cfg.from).map_err(anyhow::Error::msg)?;
        let reply_to =
            if cfg.reply_to.is_empty() { None } else { Some(mailbox(&cfg.reply_to).map_err(anyhow::Error::msg)?) };
        Ok(EmailTransport::Smtp(Box::new(Smtp { mailer: builder.build(), from, reply_to })))
    }

    pub async fn send(&self, id: &str, to: &str, msg: &Rendered) -> Result<(), Failure> {
        match self {
            EmailTransport::Log => {
                // The log transport exists to show the message, code and all: development only.
                tracing::info!(message_id = id, to, subject = %msg.subject, body = %msg.text, "email (log transport)");
                Ok(())
            }
            EmailTransport::Smtp(smtp) => smtp.send(to, msg).await,
        }
    }
}

impl Smtp {
    async fn send(&self, to: &str, msg: &Rendered) -> Result<(), Failure> {
        let to: Mailbox = to.parse().map_err(|e| Failure::Permanent(format!("bad recipient address: {e}")))?;
        let mut builder = Message::builder().from(self.from.clone()).to(to).subject(msg.subject.clone());
        if let Some(r) = &self.reply_to {
            builder = builder.reply_to(r.clone());
        }
        let email = match &msg.html {
            Some(html) => builder.multipart(MultiPart::alternative_plain_html(msg.text.clone(), html.clone())),
            None => builder.header(ContentType::TEXT_PLAIN).body(msg.text.clone()),
        }
        .map_err(|e| Failure::Permanent(format!("cannot build the message: {e}")))?;
        match self.mailer.send(email).await {
            Ok(_) => Ok(()),
            // A 5xx reply: the server refused this message for good.
            Err(e) if e.is_permanent() => Err(Failure::Permanent(format!("SMTP: {e}"))),
            // 4xx replies, timeouts, refused connections, TLS trouble: maybe better later.
            Err(e) => Err(Failure::Transient(format!("SMTP: {e}"))),
        }
    }
}
