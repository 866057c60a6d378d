//! Async drivers over [`embedded_io_async`] (feature `embedded-io-async`):
//! the same as the blocking [`io`](super::io) drivers, with `.await` on
//! every transport call. No executor is assumed; nothing here spawns,
//! sleeps or allocates. Deadlines are the transport's (or the caller's, by
//! racing the future and then calling [`Client::timed_out`]).

use embedded_io_async::{Read, Write};

use super::agent::Agent;
use super::client::SyncClient;
use super::link::{self, io_failure, Absorbed, Fail, Link};
use crate::codec::Command;
use crate::dispatch::Handler;
use crate::json::{Encode, Json};

pub use super::link::Error;

/// One round of the agent loop: one `read` into `rx`, every reply written
/// (and flushed) as it is made. Returns the bytes read; 0 means the
/// transport reported the end of its stream (a closed socket; a UART never
/// does). `rx` must not be empty (a read into an empty buffer returns 0).
///
/// # Errors
///
/// The transport's error, from a read or a write. The agent keeps its
/// state; call again to carry on.
pub async fn pump<T, H>(
    agent: &mut Agent<'_>,
    transport: &mut T,
    rx: &mut [u8],
    handler: &mut H,
) -> Result<usize, T::Error>
where
    T: Read + Write + ?Sized,
    H: Handler + ?Sized,
{
    let n = transport.read(rx).await?;
    let mut rest = rx.get(..n).unwrap_or_default();
    while !rest.is_empty() {
        let step = agent.feed(rest, handler);
        if !step.reply.is_empty() {
            transport.write_all(step.reply).await?;
            transport.flush().await?;
        }
        rest = rest.get(step.consumed..).unwrap_or_default();
    }
    Ok(n)
}

/// The agent loop: [`pump`] until the transport's stream ends.
///
/// # Errors
///
/// The transport's error, from a read or a write.
pub async fn serve<T, H>(
    agent: &mut Agent<'_>,
    transport: &mut T,
    rx: &mut [u8],
    handler: &mut H,
) -> Result<(), T::Error>
where
    T: Read + Write + ?Sized,
    H: Handler + ?Sized,
{
    while pump(agent, transport, rx, handler).await? != 0 {}
    Ok(())
}

/// An async QGA client over a transport: syncs when it must and runs one
/// command at a time.
///
/// It owns the transport and borrows three buffers: the client's (inside
/// the [`SyncClient`]; the largest reply), `rx` (each read) and `tx` (each
/// request; error texts are copied there too). Sync ids count up from the
/// caller's first one, which must be fresh for the channel (random).
#[derive(Debug)]
pub struct Client<'b, T> {
    link: Link<'b>,
    transport: T,
}

impl<'b, T: Read + Write> Client<'b, T> {
    /// A driver for `client` over `transport`. The first sync uses
    /// `first_sync_id`, each later one the next integer.
    pub fn new(
        client: SyncClient<'b>,
        transport: T,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        first_sync_id: i64,
    ) -> Self {
        Client {
            link: Link::new(client, rx, tx, first_sync_id),
            transport,
        }
    }

    /// The sans-IO client inside.
    pub fn client(&self) -> &SyncClient<'b> {
        &self.link.client
    }

    /// The caller's own deadline passed while a future of this driver was
    /// pending (and was dropped): the command is abandoned and the next
    /// call syncs first.
    pub fn timed_out(&mut self) {
        self.link.failed();
    }

    /// The transport (e.g. to change its timeout).
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Synchronise now: send `0xFF` + `guest-sync-delimited` with the next
    /// id, and read until its reply. [`Client::execute`] does this by
    /// itself when needed (at first, and after a timeout).
    ///
    /// # Errors
    ///
    /// [`Error::TimedOut`] (sync again, or give up), [`Error::Io`],
    /// [`Error::Closed`], [`Error::Send`] (a `tx` under 80 bytes).
    pub async fn sync(&mut self) -> Result<(), Error<'_, T::Error>> {
        match self.sync_inner().await {
            Ok(()) => Ok(()),
            Err(fail) => Err(self.link.error(fail)),
        }
    }

    /// Run the typed command `C` and decode its return value (leniently:
    /// members a newer agent adds are ignored). A `success-response:
    /// false` command returns the default value once written.
    ///
    /// # Errors
    ///
    /// [`Error::Agent`] for the agent's error reply (e.g. class
    /// `CommandNotFound`), [`Error::Decode`], [`Error::TooLarge`], and the
    /// transport's errors as for [`Client::sync`]. After
    /// [`Error::TimedOut`] the command may still have run.
    pub async fn execute<C: Command>(
        &mut self,
        args: &C::Args,
    ) -> Result<C::Returns, Error<'_, T::Error>> {
        let mut value = C::Returns::default();
        let (name, arguments, success_response) = link::typed::<C>(args);
        let done = self
            .run(
                name,
                arguments,
                success_response,
                link::decode_into::<C>(&mut value),
            )
            .await;
        match done {
            Ok(_) => Ok(value),
            Err(fail) => Err(self.link.error(fail)),
        }
    }

    /// Like [`Client::execute`], decoding in place into `out` (for large
    /// return types kept in `static` memory).
    ///
    /// # Errors
    ///
    /// As [`Client::execute`].
    pub async fn execute_into<C: Command>(
        &mut self,
        args: &C::Args,
        out: &mut C::Returns,
    ) -> Result<(), Error<'_, T::Error>> {
        let (name, arguments, success_response) = link::typed::<C>(args);
        match self
            .run(
                name,
                arguments,
                success_response,
                link::decode_into::<C>(out),
            )
            .await
        {
            Ok(_) => Ok(()),
            Err(fail) => Err(self.link.error(fail)),
        }
    }

    /// Run any command by name (a vendor command, or one the schema lacks)
    /// and hand its `return` value to `f`. `Ok(None)` for a
    /// `success-response: false` command, which is complete once written.
    ///
    /// # Errors
    ///
    /// As [`Client::execute`] (never [`Error::Decode`]).
    pub async fn execute_raw<R>(
        &mut self,
        name: &str,
        arguments: Option<&dyn Encode>,
        success_response: bool,
        f: impl FnOnce(Json<'_>) -> R,
    ) -> Result<Option<R>, Error<'_, T::Error>> {
        let on_reply = move |v: Json<'_>, _: &mut [u8]| Ok(f(v));
        match self.run(name, arguments, success_response, on_reply).await {
            Ok(r) => Ok(r),
            Err(fail) => Err(self.link.error(fail)),
        }
    }

    async fn sync_inner(&mut self) -> Result<(), Fail<T::Error>> {
        let len = self.link.prepare_sync().map_err(Fail::Send)?;
        self.write(len).await?;
        let mut none: link::NoReply = None;
        loop {
            if let Absorbed::Synced = self.wait(&mut none).await? {
                return Ok(());
            }
        }
    }

    async fn run<R, F>(
        &mut self,
        name: &str,
        arguments: Option<&dyn Encode>,
        success_response: bool,
        on_reply: F,
    ) -> Result<Option<R>, Fail<T::Error>>
    where
        F: FnOnce(Json<'_>, &mut [u8]) -> Result<R, usize>,
    {
        if self.link.needs_sync() {
            self.sync_inner().await?;
        }
        let (len, expects_reply) = self
            .link
            .prepare_send(name, arguments, success_response)
            .map_err(Fail::Send)?;
        self.write(len).await?;
        if !expects_reply {
            return Ok(None);
        }
        let mut on_reply = Some(on_reply);
        loop {
            match self.wait(&mut on_reply).await? {
                Absorbed::Replied(r) => return Ok(Some(r)),
                Absorbed::Synced | Absorbed::NeedInput => {}
                Absorbed::HandlerFailed(n) => {
                    return Err(Fail::Absorbed(Absorbed::HandlerFailed(n)))
                }
                Absorbed::AgentError { class, desc } => {
                    return Err(Fail::Absorbed(Absorbed::AgentError { class, desc }))
                }
                Absorbed::TooLarge(len) => return Err(Fail::Absorbed(Absorbed::TooLarge(len))),
            }
        }
    }

    async fn write(&mut self, len: usize) -> Result<(), Fail<T::Error>> {
        let Client { link, transport } = self;
        let sent = match transport.write_all(link.request(len)).await {
            Ok(()) => transport.flush().await,
            Err(e) => Err(e),
        };
        sent.map_err(|e| {
            link.failed();
            io_failure(e)
        })
    }

    /// Feed what is buffered; read once more if that was not enough.
    async fn wait<R, F>(&mut self, on_reply: &mut Option<F>) -> Result<Absorbed<R>, Fail<T::Error>>
    where
        F: FnOnce(Json<'_>, &mut [u8]) -> Result<R, usize>,
    {
        if self.link.has_input() {
            match self.link.absorb(on_reply) {
                Absorbed::NeedInput => {}
                done => return Ok(done),
            }
        }
        let Client { link, transport } = self;
        match transport.read(link.space()).await {
            Ok(0) => {
                link.closed();
                Err(Fail::Closed)
            }
            Ok(n) => {
                link.received(n);
                Ok(link.absorb(on_reply))
            }
            Err(e) => {
                link.failed();
                Err(io_failure(e))
            }
        }
    }
}
