using Mmae.Engine.IO;

namespace Mmae.Tests.Engine;

/// <summary>Where a save is made to fail.</summary>
public enum FaultPoint
{
    /// <summary>Creating the temporary file.</summary>
    Create,

    /// <summary>A write, once <see cref="FaultyFileSystem.FailAfterBytes"/> bytes are written.</summary>
    Write,

    /// <summary>Flushing the temporary file.</summary>
    Flush,

    /// <summary>Renaming it over the destination.</summary>
    Replace,
}

/// <summary>
/// The real file system, except that save number <see cref="FailOnSave"/> (1-based, counted
/// by temporary files created) fails at <see cref="Point"/> with an IOException, as a full
/// disk or a pulled drive would. <see cref="AfterSave"/> runs after each completed save.
/// </summary>
internal sealed class FaultyFileSystem : IFileSystem
{
    public int FailOnSave { get; init; } = int.MaxValue;

    public FaultPoint Point { get; init; }

    public long FailAfterBytes { get; init; }

    public Action<int>? AfterSave { get; init; }

    public int Saves { get; private set; }

    public Stream CreateNew(string path)
    {
        Saves++;
        if (Saves == FailOnSave && Point == FaultPoint.Create)
        {
            throw new IOException("injected: no space left on device");
        }

        Stream inner = LocalFileSystem.Instance.CreateNew(path);
        return Saves == FailOnSave ? new FailingStream(inner, this) : inner;
    }

    public void Replace(string source, string destination)
    {
        if (Saves == FailOnSave && Point == FaultPoint.Replace)
        {
            throw new IOException("injected: rename failed");
        }

        LocalFileSystem.Instance.Replace(source, destination);
        AfterSave?.Invoke(Saves);
    }

    public void Delete(string path) => LocalFileSystem.Instance.Delete(path);

    private sealed class FailingStream(Stream inner, FaultyFileSystem owner) : Stream
    {
        private long _written;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _written;

        public override long Position
        {
            get => _written;
            set => throw new NotSupportedException();
        }

        public override void Write(byte[] buffer, int offset, int count) =>
            Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (owner.Point == FaultPoint.Write && _written + buffer.Length > owner.FailAfterBytes)
            {
                // Part of the buffer reaches the disk, as with a real short write.
                int part = (int)Math.Max(0, owner.FailAfterBytes - _written);
                inner.Write(buffer[..part]);
                throw new IOException("injected: no space left on device");
            }

            inner.Write(buffer);
            _written += buffer.Length;
        }

        public override void Flush()
        {
            if (owner.Point == FaultPoint.Flush)
            {
                throw new IOException("injected: I/O error on flush");
            }

            inner.Flush();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
