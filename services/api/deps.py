"""Dependencies every router uses: the database session and the authenticated caller."""

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession

from shared.db import get_sessionmaker


async def get_session() -> AsyncIterator[AsyncSession]:
    """One transaction per request: commits when the handler returns, rolls back on error.
    Handlers never commit themselves."""
    async with get_sessionmaker()() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a failed commit is an error response
# and never a success the client saw but the database lost.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
