//! What every bindings module of the selector world shares: linking, instantiating, calling
//! `evaluate`, and converting the context and decision, written once and expanded in each
//! version's module (`v1`, `v1_1`) against that version's generated types (`bindings`, `t`).
//! A module brings only what differs: its WIT path, the version it serves, and how factor
//! kinds map (`factor`, `factor_back`).

macro_rules! selector_host {
    () => {
        use wasmtime::Store;
        use wasmtime::component::{Component, HasSelf, Linker};

        use bindings::SelectorPre;
        use bindings::portcullis::mfa::types as t;
        use $crate::mfa::policy::{Factor, Policy};
        use $crate::plugin_host::context as ctx;
        use $crate::plugin_host::{HostState, WorldVersion};

        struct World {
            linker: Linker<HostState>,
        }

        struct Prepared(SelectorPre<HostState>);

        /// This version's bindings, on `engine`.
        pub(super) fn world(engine: &wasmtime::Engine) -> wasmtime::Result<Box<dyn super::World>> {
            Ok(Box::new(World { linker: linker(engine)? }))
        }

        impl super::World for World {
            fn prepare(&self, component: &Component) -> wasmtime::Result<Box<dyn super::Selector>> {
                Ok(Box::new(Prepared(prepare(&self.linker, component)?)))
            }
        }

        impl super::Selector for Prepared {
            fn instantiate(&self, store: &mut Store<HostState>) -> wasmtime::Result<Box<dyn super::Instance>> {
                Ok(Box::new(Instance(self.0.instantiate(&mut *store)?)))
            }
        }

        struct Instance(bindings::Selector);

        impl super::Instance for Instance {
            fn evaluate(
                &self,
                store: &mut Store<HostState>,
                input: &ctx::LoginContext,
            ) -> wasmtime::Result<Result<ctx::Decision, String>> {
                let out = self.0.call_evaluate(&mut *store, &to_wit(input))?;
                Ok(out.map(from_wit))
            }
        }

        impl bindings::portcullis::mfa::host::Host for HostState {
            fn log(&mut self, message: String) {
                self.logs.push(message);
            }
        }

        impl t::Host for HostState {}

        fn linker(engine: &wasmtime::Engine) -> wasmtime::Result<Linker<HostState>> {
            let mut linker = Linker::new(engine);
            bindings::Selector::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |s| s)?;
            Ok(linker)
        }

        fn prepare(linker: &Linker<HostState>, component: &Component) -> wasmtime::Result<SelectorPre<HostState>> {
            SelectorPre::new(linker.instantiate_pre(component)?)
        }

        fn policy(p: Policy) -> t::Policy {
            match p {
                Policy::Disabled => t::Policy::Disabled,
                Policy::Optional => t::Policy::Optional,
                Policy::Any => t::Policy::Any,
                Policy::Otp => t::Policy::Otp,
                Policy::Passkey => t::Policy::Passkey,
            }
        }

        fn policy_back(p: t::Policy) -> Policy {
            match p {
                t::Policy::Disabled => Policy::Disabled,
                t::Policy::Optional => Policy::Optional,
                t::Policy::Any => Policy::Any,
                t::Policy::Otp => Policy::Otp,
                t::Policy::Passkey => Policy::Passkey,
            }
        }

        fn attributes(a: &[ctx::Attribute]) -> Vec<t::Attribute> {
            a.iter().map(|a| t::Attribute { name: a.name.clone(), value: a.value.clone() }).collect()
        }

        fn to_wit(c: &ctx::LoginContext) -> t::LoginContext {
            t::LoginContext {
                now: c.now,
                user: t::User {
                    id: c.user.id.clone(),
                    username: c.user.username.clone(),
                    email: c.user.email.clone(),
                    email_verified: c.user.email_verified,
                    groups: c.user.groups.clone(),
                    attributes: attributes(&c.user.attributes),
                    is_admin: c.user.is_admin,
                    created_at: c.user.created_at,
                    password_changed_at: c.user.password_changed_at,
                },
                factors: c
                    .factors
                    .iter()
                    .filter_map(|f| {
                        Some(t::EnrolledFactor {
                            kind: factor(f.kind)?,
                            name: f.name.clone(),
                            created_at: f.created_at,
                            last_used_at: f.last_used_at,
                        })
                    })
                    .collect(),
                app: c.app.as_ref().map(|a| t::App {
                    id: a.id.clone(),
                    name: a.name.clone(),
                    protocol: a.protocol.clone(),
                    policy: a.policy.map(policy),
                    metadata: attributes(&a.metadata),
                }),
                request: t::Request {
                    ip: c.request.ip.clone(),
                    user_agent: c.request.user_agent.clone(),
                    acr_values: c.request.acr_values.clone(),
                    max_age: c.request.max_age,
                    prompt: c.request.prompt.clone(),
                    scopes: c.request.scopes.clone(),
                    force_authn: c.request.force_authn,
                },
                session: c.session.as_ref().map(|s| t::Session {
                    auth_time: s.auth_time,
                    last_mfa_at: s.last_mfa_at,
                    amr: s.amr.clone(),
                }),
                device: t::Device {
                    trusted: c.device.trusted,
                    known: c.device.known,
                    first_seen_at: c.device.first_seen_at,
                    last_seen_at: c.device.last_seen_at,
                },
                signals: t::Signals {
                    new_device: c.signals.new_device,
                    new_ip: c.signals.new_ip,
                    recent_failed_attempts: c.signals.recent_failed_attempts,
                    password_changed_recently: c.signals.password_changed_recently,
                },
                static_policy: policy(c.static_policy),
            }
        }

        fn from_wit(d: t::Decision) -> ctx::Decision {
            ctx::Decision {
                policy: policy_back(d.policy),
                allowed_factors: d.allowed_factors.map(|fs| fs.into_iter().map(factor_back).collect()),
                reauth_interval_minutes: d.reauth_interval_minutes,
                allow_trusted_device: d.allow_trusted_device,
                deny: d.deny,
                reason: d.reason,
            }
        }
    };
}
pub(super) use selector_host;
