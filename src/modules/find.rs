//! wip
pub fn run<'a>(
    ctx: &'a super::ModuleCtx<'a>,
) -> crate::connection::BoxFuture<'a, crate::connection::Result<super::Outcome>> {
    Box::pin(async move {
        let _ = ctx;
        Ok(super::Outcome::ok())
    })
}
